import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, journalPath, listJournals } from '../../../src/sinks/memcached/journal.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cachetail-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(j: Journal, chunkBytes: number) {
  const keys: string[] = [];
  let flush = false;
  for (let offset = 0; offset < j.size;) {
    const chunk = await j.read(offset, chunkBytes);
    keys.push(...chunk.keys);
    flush ||= chunk.flush;
    offset = chunk.next;
  }
  return { keys, flush };
}

describe('journal', () => {
  it('appends durably in call order, reads back in chunks of whole lines', async () => {
    const j = await Journal.open(dir, '127.0.0.1:11211');
    const keys = Array.from({ length: 300 }, (_, i) => `key:${i}:${'é'.repeat(i % 7)}`);
    const appends = [j.append(keys.slice(0, 100)), j.append(keys.slice(100, 200)), j.append(keys.slice(200))];
    expect(j.pendingAppends).toBe(3);
    await Promise.all(appends);
    expect(j.pendingAppends).toBe(0);
    expect(j.size).toBe((await stat(j.path)).size);
    expect(j.path).toBe(journalPath(dir, '127.0.0.1:11211'));
    expect(j.path.endsWith('127.0.0.1%3A11211.journal')).toBe(true);
    expect((await readAll(j, 64)).keys).toEqual(keys);
    expect(j.keys).toBe(300);
    await j.close();
  });

  it('a large append (written in slices, one fdatasync) reads back whole', async () => {
    const j = await Journal.open(dir, 'a:1');
    const keys = Array.from({ length: 20_000 }, (_, i) => `bulk:${i}`);
    await j.append(keys);
    expect((await readAll(j, 1 << 16)).keys).toEqual(keys);
    await j.close();
  });

  it('keeps keys with newlines, quotes and any character intact', async () => {
    const j = await Journal.open(dir, 'a:1');
    const odd = ['line\nbreak', 'quote"s', '#hash', '!flush', '\u0000nul', '日本'];
    await j.append(odd);
    expect((await readAll(j, 1 << 20)).keys).toEqual(odd);
    expect(j.flushRequired).toBe(false);
    await j.close();
  });

  it('a flush marker survives reopening; reset removes the file', async () => {
    const j = await Journal.open(dir, 'a:1');
    await j.append(['x']);
    await j.appendFlushMarker();
    await j.close();
    const again = await Journal.open(dir, 'a:1');
    expect({ flush: again.flushRequired, keys: again.keys }).toEqual({ flush: true, keys: 1 });
    expect(await readFile(again.path, 'utf8')).toBe('# cachetail memcached journal v1 a:1\n"x"\n!flush\n');
    await again.reset();
    await expect(stat(again.path)).rejects.toMatchObject({ code: 'ENOENT' });
    await again.append(['y']);
    expect(await readFile(again.path, 'utf8')).toBe('# cachetail memcached journal v1 a:1\n"y"\n');
    expect(await listJournals(dir)).toEqual(['a:1']);
    await again.close();
  });

  it('cuts a torn last line off when opened', async () => {
    await writeFile(journalPath(dir, 'a:1'), '# cachetail memcached journal v1 a:1\n"a"\n"b');
    const j = await Journal.open(dir, 'a:1');
    expect(await readFile(j.path, 'utf8')).toBe('# cachetail memcached journal v1 a:1\n"a"\n');
    expect((await readAll(j, 1024)).keys).toEqual(['a']);
    await j.append(['c']);
    expect((await readAll(j, 1024)).keys).toEqual(['a', 'c']);
    await j.close();
  });

  it('a failed append is reported and leaves nothing behind', async () => {
    const gone = join(dir, 'state');
    const j = await Journal.open(gone, 'a:1');
    await writeFile(gone, ''); // the directory cannot be created any more
    await expect(j.append(['a'])).rejects.toMatchObject({ code: 'EEXIST' });
    expect({ size: j.size, pending: j.pendingAppends }).toEqual({ size: 0, pending: 0 });
    expect(await listJournals(join(dir, 'missing'))).toEqual([]);
  });
});
