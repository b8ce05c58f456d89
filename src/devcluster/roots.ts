// Server roots: a minimal Debian tree (debootstrap --variant=minbase) per server line that is not the
// host's own, with that line's server packages installed. Servers run in it through chroot(8), as root,
// on loopback ports; the host reaches them over TCP and reads their files through the root's path.
//
// Built once per machine and reused: by default under /var/cache/cachetail/server-roots (outside any
// checkout, so a fresh CI clone reuses what an earlier run built), `CACHETAIL_SERVER_ROOTS` to move it.
// A build goes to `<line>.partial` and is renamed when whole, so an interrupted one is never used; a lock
// file serialises concurrent builders (vitest projects start their global setups together).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lineSpec, type ServerLine } from './lines.js';
import { DevclusterError, requireBinary, runCommand, sleep, tryLock } from './proc.js';

export const ROOTS_ENV = 'CACHETAIL_SERVER_ROOTS';
const DEFAULT_ROOTS_DIR = '/var/cache/cachetail/server-roots';
const MARKER = '.cachetail-root.json';

export function rootsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[ROOTS_ENV]?.trim() || DEFAULT_ROOTS_DIR;
}

export function rootPath(line: ServerLine): string | null {
  return lineSpec(line).suite === null ? null : join(rootsDir(), line);
}

export type RootState =
  | { kind: 'host' }
  | { kind: 'ready'; path: string }
  | { kind: 'buildable'; path: string }
  | { kind: 'unavailable'; why: string };

/** Whether this machine has the line's root, can build it, or cannot (and why, naming the fix). */
export function rootState(line: ServerLine): RootState {
  const path = rootPath(line);
  if (path === null) return { kind: 'host' };
  if (existsSync(join(path, MARKER))) return { kind: 'ready', path };
  if (process.getuid?.() !== 0) {
    return { kind: 'unavailable', why: `${line} runs in a chroot, which needs root (this process is not)` };
  }
  try {
    requireBinary('debootstrap', 'apt-get install debootstrap');
    requireBinary('chroot', 'apt-get install coreutils');
  } catch (err) {
    return { kind: 'unavailable', why: `${line}: ${(err as Error).message}` };
  }
  return { kind: 'buildable', path };
}

/**
 * The line's root, built first if needed (minutes: debootstrap plus the server packages). Null for the
 * host's own line. Throws ROOT_UNAVAILABLE, naming what is missing, when this machine cannot build it.
 */
export async function ensureRoot(line: ServerLine, log: (msg: string) => void): Promise<string | null> {
  const state = rootState(line);
  if (state.kind === 'host') return null;
  if (state.kind === 'ready') return state.path;
  if (state.kind === 'unavailable') throw new DevclusterError('ROOT_UNAVAILABLE', state.why);
  const path = state.path;
  await mkdir(rootsDir(), { recursive: true });
  const lock = `${path}.lock`;
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    if (existsSync(join(path, MARKER))) return path;
    if (await tryLock(lock)) {
      try {
        if (!existsSync(join(path, MARKER))) await buildRoot(line, path, log);
        return path;
      } finally {
        await unlink(lock).catch(() => undefined);
      }
    }
    if (Date.now() > deadline) {
      throw new DevclusterError('LOCK_TIMEOUT', `${lock} still held by another process after 20 minutes`);
    }
    await sleep(500);
  }
}

async function buildRoot(line: ServerLine, path: string, log: (msg: string) => void): Promise<void> {
  const spec = lineSpec(line);
  const suite = spec.suite as string;
  const partial = `${path}.partial`;
  const mirror = debianMirror();
  const started = Date.now();
  log(`devcluster: building the ${line} root (Debian ${suite}) in ${partial}; this takes a few minutes`);
  await rm(partial, { recursive: true, force: true });
  const debootstrap = requireBinary('debootstrap', 'apt-get install debootstrap');
  await runCommand(debootstrap, ['--variant=minbase', suite, partial, mirror]);
  const chroot = requireBinary('chroot', 'apt-get install coreutils');
  const aptEnv = { DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand(
    chroot,
    [partial, 'apt-get', 'install', '-y', '--no-install-recommends', ...spec.packages],
    { env: aptEnv },
  );
  await runCommand(chroot, [partial, 'apt-get', 'clean'], { env: aptEnv });
  const version = (await runCommand(chroot, [partial, spec.server, '--version'])).trim();
  await writeFile(
    join(partial, MARKER),
    `${JSON.stringify({ line, suite, packages: spec.packages, version, builtAt: new Date().toISOString() })}\n`,
  );
  await rm(path, { recursive: true, force: true });
  await rename(partial, path);
  log(`devcluster: ${line} root ready in ${((Date.now() - started) / 1000).toFixed(0)} s (${version})`);
}

/** The Debian mirror apt on this machine already uses (deb822 sources or the classic list). */
export function debianMirror(): string {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('#')) continue;
      const deb822 = /^URIs:\s*(\S+)/i.exec(line);
      const classic = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s/.exec(line);
      const uri = deb822?.[1] ?? classic?.[1];
      if (uri && !/security/.test(uri)) return uri;
    }
  }
  throw new DevclusterError(
    'ROOT_UNAVAILABLE',
    'no Debian mirror found in /etc/apt/sources.list(.d): set one up for apt, then retry',
  );
}

/** What a built root says about itself (for logs and the closing `start` output). */
export async function rootInfo(path: string): Promise<{ version: string } | null> {
  try {
    return JSON.parse(await readFile(join(path, MARKER), 'utf8')) as { version: string };
  } catch {
    return null;
  }
}
