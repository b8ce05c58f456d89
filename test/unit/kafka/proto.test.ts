/**
 * The schema checks CI runs, proven to bite: buf lint passes on proto/, and buf breaking against the
 * released copy passes as is but fails on a renumbered, retyped or removed field (in a scratch copy).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const buf = join('node_modules', '.bin', 'buf');
const FILE = join('cachetail', 'v1', 'invalidation.proto');

async function breaking(dir: string): Promise<{ code: number; out: string }> {
  try {
    await run(buf, ['breaking', dir, '--against', 'proto/released']);
    return { code: 0, out: '' };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('proto/ schema checks', () => {
  let scratch = '';
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cachetail-proto-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function variant(name: string, edit: (text: string) => string): Promise<string> {
    const dir = join(scratch, name);
    await cp('proto', dir, { recursive: true });
    await rm(join(dir, 'released'), { recursive: true });
    const path = join(dir, FILE);
    await writeFile(path, edit(await readFile(path, 'utf8')));
    return dir;
  }

  it('buf lint passes', async () => {
    await expect(run(buf, ['lint', 'proto'])).resolves.toBeDefined();
  });

  it('buf breaking: the schema as is, and with a field added, is compatible with the release', async () => {
    expect(await breaking('proto')).toEqual({ code: 0, out: '' });
    const added = await variant('added', (t) =>
      t.replace('string origin_region = 12;', 'string origin_region = 12;\n  string tenant = 13;'),
    );
    expect(await breaking(added)).toEqual({ code: 0, out: '' });
  });

  it.each([
    [
      'renumbered',
      (t: string) => t.replace('string origin_region = 12;', 'string origin_region = 13;'),
      'Previously present field "12" with name "origin_region"',
    ],
    [
      'retyped',
      (t: string) => t.replace('uint32 key_index = 4;', 'uint64 key_index = 4;'),
      'changed type from "uint32" to "uint64"',
    ],
    [
      'removed',
      (t: string) => t.replace('  string gtid = 6;\n', ''),
      'Previously present field "6" with name "gtid"',
    ],
  ])('buf breaking fails on a %s field', async (name, edit, message) => {
    const result = await breaking(await variant(name, edit));
    expect(result.code).toBe(100);
    expect(result.out).toContain(message);
  });
});
