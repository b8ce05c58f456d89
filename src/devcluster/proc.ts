// Process plumbing shared by every devcluster service: finding binaries, free ports, spawning with logs
// to a file, and stopping by PID. Every PID we start is also written to `<baseDir>/pids/` so that a
// different process (the vitest global teardown, an `exit` handler, the next run's stale sweep) can stop
// services it did not spawn itself, e.g. the Kafka broker a test worker started.
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { CachetailError } from '../errors.js';

export type DevclusterErrorCode =
  | 'BINARY_MISSING'
  | 'START_FAILED'
  | 'TIMEOUT'
  | 'COMMAND_FAILED'
  | 'LOCK_TIMEOUT'
  | 'NOT_RUNNING'
  | 'UNKNOWN_LINE'
  | 'ROOT_UNAVAILABLE'
  /** A server is not in the state a caller arranged (e.g. a replica applied what it should only have fetched). */
  | 'UNEXPECTED_STATE';

export class DevclusterError extends CachetailError {
  declare readonly code: DevclusterErrorCode;
  /** retryable: trying the same thing again can help (e.g. a port taken between probe and bind). */
  constructor(code: DevclusterErrorCode, message: string, retryable = false) {
    super(code, message, { retryable });
    this.name = 'DevclusterError';
  }
}

/** Environment variable set on every child; lets a later sweep prove a PID is still ours before killing. */
export const OWNER_ENV = 'CACHETAIL_DEVCLUSTER_DIR';

// Debian puts server binaries in sbin, which is not on a non-root PATH.
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/local/bin', '/usr/bin'];

/** Absolute path of `name`, or a DevclusterError telling the user which package to install. */
export function requireBinary(name: string, installHint: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new DevclusterError('BINARY_MISSING', `${name} not found — ${installHint}`);
}

/**
 * A port the OS just handed out on 127.0.0.1. Another process may take it before the server binds;
 * callers treat "address in use" as retryable.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

export interface Spawned {
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  hasExited(): boolean;
}

export interface SpawnOptions {
  baseDir: string;
  /** Registry name, unique within the cluster: `primary`, `memcached-master`, `kafka`. */
  name: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Let this Node process exit while the child keeps running (Kafka started from a test worker). */
  outliveParent?: boolean;
}

/** Starts a long-running server with stdout+stderr appended to `logFile` and records its PID. */
export async function spawnService(cmd: string, args: string[], opts: SpawnOptions): Promise<Spawned> {
  const fd = openSync(opts.logFile, 'a');
  let exitedWith: number | string | undefined;
  try {
    const child = spawn(cmd, args, {
      // Its own session and process group: a Ctrl-C in the terminal, or a signal to the owner's group,
      // must not reach the servers directly (memcached would quit mid-stop). They are stopped by PID,
      // in order, by their owner — or by its exit handler or its reaper (reaper.ts) when it dies.
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env, [OWNER_ENV]: opts.baseDir },
    });
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => {
        exitedWith = code ?? signal ?? 'unknown';
        resolve(exitedWith);
      });
      child.once('error', (err) => {
        exitedWith = `spawn error: ${err.message}`;
        resolve(exitedWith);
      });
    });
    if (child.pid === undefined) {
      throw new DevclusterError(
        'START_FAILED',
        `${opts.name}: could not spawn ${cmd}: ${String(await exited)}`,
      );
    }
    if (opts.outliveParent) child.unref();
    await recordPid(opts.baseDir, opts.name, child.pid);
    return { pid: child.pid, logFile: opts.logFile, exited, hasExited: () => exitedWith !== undefined };
  } finally {
    closeSync(fd);
  }
}

/** Runs a command to completion; a non-zero exit becomes an error carrying the end of its output. */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const result = await new Promise<string | number>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('close', (code, sig) => resolve(code ?? sig ?? 'unknown'));
  });
  if (result !== 0) {
    const tail = output.trim().split('\n').slice(-30).join('\n');
    const why = typeof result === 'number' ? `exit ${result}` : result;
    throw new DevclusterError('COMMAND_FAILED', `${cmd} ${args.join(' ')} failed (${why}):\n${tail}`);
  }
  return output;
}

const pidDir = (baseDir: string) => join(baseDir, 'pids');

async function recordPid(baseDir: string, name: string, pid: number): Promise<void> {
  mkdirSync(pidDir(baseDir), { recursive: true });
  await writeFile(join(pidDir(baseDir), `${name}.pid`), `${pid}\n`);
}

/** PIDs recorded under `baseDir`, by service name. Synchronous so `exit` handlers can use it. */
export function registeredPids(baseDir: string): Map<string, number> {
  const pids = new Map<string, number>();
  let files: string[];
  try {
    files = readdirSync(pidDir(baseDir));
  } catch {
    return pids;
  }
  for (const file of files.filter((f) => f.endsWith('.pid'))) {
    const pid = Number(readFileSync(join(pidDir(baseDir), file), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) pids.set(file.slice(0, -'.pid'.length), pid);
  }
  return pids;
}

/** True when `pid` runs and is not a zombie (an unreaped zombie still answers kill(pid, 0)). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/**
 * Whether `pid` is a process we started for `baseDir`. PIDs get reused, so before signalling a PID read
 * from a file we check the marker in its environment.
 */
export function isOurs(pid: number, baseDir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${OWNER_ENV}=${baseDir}`);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (!isAlive(pid)) return;
  signal(pid, 'SIGKILL');
  const hardDeadline = Date.now() + 5_000;
  while (isAlive(pid) && Date.now() < hardDeadline) await sleep(20);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Stops every registered service of `baseDir` concurrently; each one shuts down on its own. */
export async function stopRegistered(baseDir: string, graceMs?: number): Promise<void> {
  const pids = [...registeredPids(baseDir).values()].filter((pid) => isOurs(pid, baseDir));
  await Promise.all(pids.map((pid) => stopPid(pid, graceMs)));
}

/**
 * Last resort for `process.on('exit')` and signal handlers, where nothing asynchronous runs: SIGKILL
 * every registered service and delete the base dir.
 */
export function killRegisteredSync(baseDir: string, removeDir: boolean): void {
  for (const pid of registeredPids(baseDir).values()) {
    if (isOurs(pid, baseDir)) signal(pid, 'SIGKILL');
  }
  if (removeDir) rmSync(baseDir, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The last `lines` lines of a log file, for error messages. */
export async function tailFile(path: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

/**
 * Polls `probe` until it returns a value other than undefined. Stops early when the process died and
 * reports the log tail either way, because "timed out" alone never tells anyone what went wrong.
 */
export async function waitUntilReady<T>(
  what: string,
  proc: Spawned,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      const how = await proc.exited;
      const log = await tailFile(proc.logFile);
      const inUse = /address already in use|Can't start server: Bind|failed to listen/i.test(log);
      throw new DevclusterError(
        'START_FAILED',
        `${what} exited during startup (${how}); log ${proc.logFile}:\n${log}`,
        inUse,
      );
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  const log = await tailFile(proc.logFile);
  throw new DevclusterError(
    'TIMEOUT',
    `${what} not ready after ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}; log ${proc.logFile}:\n${log}`,
  );
}

/** Runs `attempt` again (new ports) when it failed with a retryable DevclusterError. */
export async function withRetries<T>(attempts: number, attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= attempts || !(err instanceof DevclusterError) || !err.retryable) throw err;
    }
  }
}

/**
 * An O_EXCL lock file holding the owner's PID, so that concurrent starters in different processes
 * serialise. A lock whose owner died (or that stayed empty for seconds) is removed for the next try.
 */
export async function tryLock(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number(await readFile(path, 'utf8').catch(() => ''));
  const ageMs = Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now());
  if (owner > 0 ? !isAlive(owner) : ageMs > 5_000) await unlink(path).catch(() => undefined);
  return false;
}
