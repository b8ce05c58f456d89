import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envName } from '../../../src/config/load.js';
import { loadTailerConfig } from '../../../src/config/tailer.js';

const dir = mkdtempSync(join(tmpdir(), 'cachetail-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const minimal = {
  CACHETAIL_SOURCE_USER: 'cachetail',
  CACHETAIL_MEMCACHED_SERVERS: '10.0.0.1:11211, 10.0.0.2:11211',
};

describe('tailer config', () => {
  it('names env variables after the schema path', () => {
    expect(envName(['source', 'serverId'])).toBe('CACHETAIL_SOURCE_SERVER_ID');
    expect(envName(['memcached', 'servers'])).toBe('CACHETAIL_MEMCACHED_SERVERS');
  });

  it('fills defaults, parses lists and numbers, and freezes the result', () => {
    const c = loadTailerConfig(undefined, { ...minimal, CACHETAIL_SOURCE_PORT: '3307' });
    expect(c.source).toMatchObject({ host: '127.0.0.1', port: 3307, user: 'cachetail', serverId: 4_000_001 });
    expect(c.memcached.servers).toEqual(['10.0.0.1:11211', '10.0.0.2:11211']);
    expect(c.start).toEqual({ kind: 'current' });
    expect(Object.isFrozen(c.source)).toBe(true);
  });

  it('lets env override the file, and reads the password from a file', () => {
    const file = join(dir, 'c.json');
    const pw = join(dir, 'pw');
    writeFileSync(pw, 's3cret\n');
    writeFileSync(
      file,
      JSON.stringify({
        region: 'eu',
        source: { user: 'u', passwordFile: pw, port: 1 },
        memcached: { servers: ['m:1'] },
      }),
    );
    const c = loadTailerConfig(file, { CACHETAIL_SOURCE_PORT: '3308' });
    expect(c.region).toBe('eu');
    expect(c.source.port).toBe(3308);
    expect(c.source.password).toBe('s3cret');
  });

  it('reads source.ssl from env (booleans as text), off by default', () => {
    expect(loadTailerConfig(undefined, minimal).source.ssl).toBeUndefined();
    const c = loadTailerConfig(undefined, {
      ...minimal,
      CACHETAIL_SOURCE_SSL_ENABLED: 'true',
      CACHETAIL_SOURCE_SSL_CA_FILE: '/etc/mysql/ca.pem',
      CACHETAIL_SOURCE_SSL_VERIFY_IDENTITY: '1',
    });
    expect(c.source.ssl).toEqual({
      enabled: true,
      caFile: '/etc/mysql/ca.pem',
      rejectUnauthorized: true,
      verifyIdentity: true,
    });
    expect(() =>
      loadTailerConfig(undefined, { ...minimal, CACHETAIL_SOURCE_SSL_CERT_FILE: '/etc/mysql/client.pem' }),
    ).toThrow('source.ssl.keyFile: ssl.certFile and ssl.keyFile go together');
  });

  it('names every bad field in one error', () => {
    expect(() =>
      loadTailerConfig(undefined, { CACHETAIL_MEMCACHED_SERVERS: 'nocolon', CACHETAIL_SOURCE_PORT: '70000' }),
    ).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/source\.port[\s\S]*source\.user|source\.user[\s\S]*source\.port/),
      }),
    );
    expect(() =>
      loadTailerConfig(undefined, { CACHETAIL_MEMCACHED_SERVERS: 'nocolon', CACHETAIL_SOURCE_USER: 'u' }),
    ).toThrow('memcached.servers.0: expected host:port');
  });

  it('rejects unknown fields and non-numeric numbers', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ source: { user: 'u', hots: 'x' }, memcached: { servers: ['m:1'] } }),
    );
    expect(() => loadTailerConfig(file, {})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => loadTailerConfig(undefined, { ...minimal, CACHETAIL_SOURCE_PORT: 'abc' })).toThrow(
      'CACHETAIL_SOURCE_PORT="abc" is not a number',
    );
  });

  it('reports a missing config file and bad JSON clearly', () => {
    expect(() => loadTailerConfig(join(dir, 'nope.json'), minimal)).toThrow(
      expect.objectContaining({ code: 'CONFIG_READ' }),
    );
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{');
    expect(() => loadTailerConfig(file, minimal)).toThrow(expect.objectContaining({ code: 'CONFIG_PARSE' }));
  });
});
