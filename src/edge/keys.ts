/**
 * The recent-write cookie's signing keys. Several keys make rotation possible without logging anyone
 * out of their pin: add the new key first (it signs from then on), keep the old one after it (it still
 * verifies) for at least one window, then remove it. Each key has an id that is written into the cookie,
 * so verification tries exactly one key and an unknown id is told apart from a bad signature.
 *
 * Secrets come from the environment or a file, never from the command line, and are never logged: a
 * KeyRing prints as its key ids only.
 */
import { CachetailError } from '../errors.js';

/** Secrets shorter than this are refused: HMAC-SHA256 with a short secret is guessable offline. */
export const MIN_SECRET_LENGTH = 32;

const KEY_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;

export interface SigningKey {
  readonly id: string;
  readonly secret: Buffer;
}

export class KeyRing {
  private readonly byId: ReadonlyMap<string, SigningKey>;

  private constructor(private readonly keys: readonly SigningKey[]) {
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  /**
   * Entries are `id:secret` (the first `:` separates them; the secret is used as UTF-8 bytes). The first
   * entry signs; every entry verifies. `source` names where the entries came from, for errors.
   */
  static parse(entries: readonly string[], source: string): KeyRing {
    const { keys, problems } = readKeys(entries);
    if (problems.length > 0) {
      throw new CachetailError('CONFIG_INVALID', `cookie keys from ${source}:\n  ${problems.join('\n  ')}`);
    }
    return new KeyRing(keys);
  }

  get signing(): SigningKey {
    return this.keys[0];
  }

  get ids(): readonly string[] {
    return this.keys.map((k) => k.id);
  }

  find(id: string): SigningKey | undefined {
    return this.byId.get(id);
  }

  toJSON(): { ids: readonly string[] } {
    return { ids: this.ids };
  }

  toString(): string {
    return `KeyRing(${this.ids.join(',')})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The keys of `entries`, and what is wrong with them. */
function readKeys(entries: readonly string[]): { keys: SigningKey[]; problems: string[] } {
  const keys: SigningKey[] = [];
  const problems: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const secret = colon < 0 ? '' : entry.slice(colon + 1);
    // Problems name the entry by position and id only: the text may be a secret.
    if (!KEY_ID_RE.test(id))
      problems.push(`entry ${i + 1}: expected id:secret with an id of [A-Za-z0-9_-]{1,32}`);
    else if (Buffer.byteLength(secret) < MIN_SECRET_LENGTH)
      problems.push(`key ${JSON.stringify(id)}: secret shorter than ${MIN_SECRET_LENGTH} bytes`);
    else if (keys.some((k) => k.id === id)) problems.push(`key ${JSON.stringify(id)}: id used twice`);
    else keys.push({ id, secret: Buffer.from(secret, 'utf8') });
  }
  if (problems.length === 0 && keys.length === 0)
    problems.push('no key configured (at least one is required)');
  return { keys, problems };
}

/** What KeyRing.parse would refuse in `entries`, as lines without a secret; empty when they are usable. */
export function keyProblems(entries: readonly string[]): string[] {
  return readKeys(entries).problems;
}

/** Entries of a keys file: lines of `id:secret`; blank lines and lines starting with # are skipped. */
export function keyFileEntries(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
