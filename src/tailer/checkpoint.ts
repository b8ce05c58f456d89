/**
 * The checkpoint: where a restarted tailer resumes. It records the last transaction whose deletes were
 * acknowledged (and every transaction before it), never a transaction still in flight, so a restart
 * repeats deletes but never skips one (at-least-once).
 *
 * Written atomically — temp file, fsync, rename over the old one, fsync of the directory — so a crash
 * at any instant leaves either the old or the new checkpoint, never a torn one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { serverIdentitySchema, type ServerIdentity } from '../contracts/server.js';
import { CachetailError, errorMessage } from '../errors.js';

export { serverIdentitySchema, type ServerIdentity };

export const checkpointSchema = z
  .object({
    version: z.literal(1),
    server: serverIdentitySchema,
    /** GTID state after the acknowledged transaction (MariaDB `d-s-n,…`, MySQL GTID set), if known. */
    gtid: z.string().nullable(),
    file: z.string().min(1),
    position: z.number().int().min(4),
    /** When this checkpoint was written (ms since the epoch). */
    writtenAt: z.number(),
  })
  .strict();
export type Checkpoint = z.infer<typeof checkpointSchema>;

export class CheckpointStore {
  readonly path: string;

  constructor(stateDir: string, name = 'checkpoint.json') {
    this.path = join(stateDir, name);
  }

  /** The stored checkpoint, or null when there is none yet. A corrupt file is an error, not "none". */
  async load(): Promise<Checkpoint | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new CachetailError(
        'CHECKPOINT_READ',
        `cannot read checkpoint ${this.path}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw corrupt(this.path, errorMessage(err));
    }
    const parsed = checkpointSchema.safeParse(raw);
    if (!parsed.success) {
      throw corrupt(
        this.path,
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    }
    return parsed.data;
  }

  async save(cp: Checkpoint): Promise<void> {
    const dir = dirname(this.path);
    const tmp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(cp, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
      const dh = await open(dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new CachetailError(
        'CHECKPOINT_WRITE',
        `cannot write checkpoint ${this.path}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
  }
}

function corrupt(path: string, why: string): CachetailError {
  return new CachetailError(
    'CHECKPOINT_CORRUPT',
    `checkpoint ${path} is not valid (${why}). Refusing to guess a position: fix or remove the file ` +
      `(then the tailer starts from the configured start position, or applies the gap policy).`,
  );
}
