// The reaper: one small process per cluster whose only job is to clean up after an owner that died
// without doing it itself. The owner's `exit` handler covers every ending in which JavaScript still runs
// (an uncaught error, process.exit, a signal the application handles); nothing covers SIGKILL, the OOM
// killer or a native crash — and `tsx src/cli.ts` SIGKILLs its child when the child does not confirm a
// relayed signal within 30 ms. Linux can tie a child's life to its parent (PR_SET_PDEATHSIG), but Node
// offers no way to set it, and it would not remove the base dir anyway.
//
// So the owner starts the reaper with a pipe as its stdin and never writes to it. The kernel closes the
// pipe when the owner dies, however it dies; the reaper reads end-of-file, SIGKILLs every PID of the
// cluster's registry that is still ours (the same environment-marker check as proc.ts's isOurs, never a
// name), waits for them to be gone and removes the base dir. After an orderly stop the owner ends the
// reaper with SIGTERM first (release). The reaper runs in its own session, so a Ctrl-C in the terminal
// or a signal to the owner's process group does not end it before it has done its job.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { OWNER_ENV } from './proc.js';

// Plain CommonJS for `node -e`: it must run the same way from src/ (tsx), dist/ and a vitest process, so
// it cannot import this package's TypeScript; it repeats proc.ts's registry layout (`<baseDir>/pids/*.pid`).
const REAPER_JS = `
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const [baseDir, marker] = process.argv.slice(1);
const pidDir = join(baseDir, 'pids');
process.title = 'cachetail-reaper ' + baseDir;

function registered() {
  try {
    return readdirSync(pidDir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => Number(readFileSync(join(pidDir, f), 'utf8').trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return [];
  }
}

// A zombie or a reused PID has no such environment entry.
function ours(pid) {
  try {
    return readFileSync('/proc/' + pid + '/environ', 'utf8').split('\\0').includes(marker);
  } catch {
    return false;
  }
}

function reap() {
  const pids = registered().filter(ours);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  // Remove the dir once nothing can write into it any more.
  const deadline = Date.now() + 5000;
  const removeWhenGone = () => {
    if (pids.some(ours) && Date.now() < deadline) return setTimeout(removeWhenGone, 50);
    rmSync(baseDir, { recursive: true, force: true });
  };
  removeWhenGone();
}

process.stdin.on('error', reap);
process.stdin.on('end', reap);
process.stdin.resume();
`;

export interface Reaper {
  /** Its PID (undefined when it could not be spawned; the owner's exit handler still runs then). */
  readonly pid: number | undefined;
  /** The cluster was stopped in order: end the reaper without touching anything. */
  release(): void;
}

/** Held here so that the pipe's end in this process lives as long as the process, whatever callers keep. */
const running = new Set<ChildProcess>();

/** Starts the reaper of `baseDir`; it cleans up when this process dies without calling release(). */
export function startReaper(baseDir: string): Reaper {
  const child: ChildProcess = spawn(process.execPath, ['-e', REAPER_JS, baseDir, `${OWNER_ENV}=${baseDir}`], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    // Nothing of ours: no NODE_OPTIONS loader to start, no owner marker that would make it look like a server.
    env: {},
  });
  // Neither the process nor the pipe may keep the owner's event loop alive.
  child.unref();
  (child.stdin as Socket).unref();
  child.on('error', () => undefined);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return {
    pid: child.pid,
    release: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
