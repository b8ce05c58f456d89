import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { countSqlParameters, samplerConfigSchema } from '../../../src/sampler/config.js';
import { compileKeyTemplate, createTailerSampler, rowAsEnvelopeJson } from '../../../src/sampler/tailer.js';

describe('sampler truth configuration', () => {
  it('compiles key templates to whole-key patterns whose groups bind the query parameters in order', () => {
    const p = compileKeyTemplate('user:{id}:name');
    expect(p.exec('user:42:name')?.slice(1)).toEqual(['42']);
    expect(p.exec('user:42:name:x')).toBeNull();
    expect(p.exec('xuser:42:name')).toBeNull();
    expect(p.exec('user::name')).toBeNull();
    const two = compileKeyTemplate('t.{db}[{id}]*');
    expect(two.exec('t.app[7]*')?.slice(1)).toEqual(['app', '7']);
    // Regex metacharacters in the template are literal.
    expect(two.exec('tXapp[7]*')).toBeNull();
    expect(compileKeyTemplate('plain').exec('plain')?.slice(1)).toEqual([]);
  });

  it('counts ? outside strings, identifiers and comments', () => {
    expect(countSqlParameters('SELECT v FROM t WHERE id = ?')).toBe(1);
    expect(countSqlParameters('SELECT \'?\', "?", `a?` FROM t WHERE a = ? AND b = ?')).toBe(2);
    expect(countSqlParameters("SELECT 'it\\'s ?' FROM t -- ?\n WHERE a = ? /* ? */ # ?")).toBe(1);
  });

  it('rejects an enabled sampler without a truth source and a template/query mismatch, with the field', () => {
    const none = samplerConfigSchema.safeParse({ enabled: true });
    expect(none.success).toBe(false);
    expect(none.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      [
        'truth',
        'consistency.enabled needs a truth source: consistency.truth.queries (key template + SQL) or consistency.truth.module',
      ],
    ]);
    const mismatch = samplerConfigSchema.safeParse({
      enabled: true,
      truth: { queries: [{ key: 'user:{id}:{field}', sql: 'SELECT v FROM t WHERE id = ?' }] },
    });
    expect(mismatch.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['truth.queries.0.sql', 'key template "user:{id}:{field}" has 2 placeholder(s) but the query has 1 ?'],
    ]);
    const ok = samplerConfigSchema.parse({
      enabled: 'true',
      every: 10,
      truth: { queries: [{ key: 'user:{id}', sql: 'SELECT v FROM t WHERE id = ?' }] },
    });
    expect(ok).toMatchObject({ enabled: true, every: 10, truth: { poolSize: 4 } });
  });

  it('turns the truth row into the JSON getOrLoad would have cached', () => {
    const rows = (r: object[]) => r as RowDataPacket[];
    expect(rowAsEnvelopeJson(rows([]))).toBeNull();
    expect(rowAsEnvelopeJson(rows([{ v: 'Monkey' }]))).toBe('"Monkey"');
    expect(rowAsEnvelopeJson(rows([{ v: 7 }]))).toBe('7');
    expect(rowAsEnvelopeJson(rows([{ v: null }]))).toBe('null');
    expect(rowAsEnvelopeJson(rows([{ id: 1, name: 'J' }]))).toBe('{"id":1,"name":"J"}');
  });
});

describe('a truth module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cachetail-truth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const deps = {
    source: { host: '127.0.0.1', port: 1, user: 'u', password: 'p' },
    memcached: { servers: ['127.0.0.1:1'], hashing: 'memjs' as const },
    log: createLogger('silent'),
  };
  const config = (module: string) =>
    samplerConfigSchema.parse({ enabled: true, every: 1, delaysMs: [0], truth: { module } });

  it('judges the keys it covers with its own readers; other keys are counted as ignored', async () => {
    const file = join(dir, 'truth.mjs');
    writeFileSync(
      file,
      `export default (ctx) => ({
        sampleable: (k) => k.startsWith('m:'),
        readTruth: async (k) => (k === 'm:stale' ? '"new"' : '"same"'),
        readCache: async (k) => (k === 'm:gone' ? { state: 'absent' } : { state: 'value', value: k === 'm:stale' ? '"old"' : '"same"' }),
        replicaHost: ctx.replica.host,
      });`,
    );
    const s = await createTailerSampler(config(file), deps);
    expect(s).not.toBeNull();
    s!.observe(
      [{ gtid: '0-1-5', commitTimeMs: 0, keys: ['m:ok', 'x:1', 'm:stale', 'm:gone', 'y:2'] }],
      Date.now(),
    );
    await s!.sampler.drain();
    expect(s!.report()).toEqual({
      every: 1,
      keysSeen: 3,
      sampled: 3,
      skipped: 0,
      pending: 0,
      ignored: 2,
      delays: [
        {
          delayMs: 0,
          checks: 3,
          consistent: 2,
          stale: 1,
          errors: 0,
          within: { consistent: 2, stale: 1, errors: 0 },
          fraction: 2 / 3,
        },
      ],
    });
    await s!.close();
  });

  it('refuses a module without readTruth or check, naming it', async () => {
    const file = join(dir, 'empty.mjs');
    writeFileSync(file, 'export default () => ({ sampleable: () => true });');
    await expect(createTailerSampler(config(file), deps)).rejects.toThrow(
      `consistency.truth.module ${file}: it returned neither readTruth nor check`,
    );
    await expect(createTailerSampler(config(join(dir, 'missing.mjs')), deps)).rejects.toThrow(
      /consistency.truth.module .*missing.mjs: Cannot find module/,
    );
  });

  it('is off when not enabled', async () => {
    expect(await createTailerSampler(samplerConfigSchema.parse({}), deps)).toBeNull();
  });
});
