/**
 * Stopping the demo with a signal to any of its processes (issue 17 item 4; the design is in src/demo.ts):
 * SIGTERM to `npm start`, SIGINT to `tsx src/cli.ts demo`, and SIGTERM to the demo's node process with a
 * server that hangs on shutdown, where a second SIGTERM stops it at once. Every process the demo started
 * (found under the launched process in /proc once the demo answers on its ports) is gone within the
 * bound, and its base dir with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ECHO_MS } from '../../src/demo.js';
import { waitFor } from '../helpers/wait.js';

/** What issue 17 allows for a signal to end the whole demo. */
const BOUND_MS = 30_000;

interface Demo {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

interface Proc {
  pid: number;
  comm: string;
  cmdline: string;
}

const launched: Running[] = [];

afterEach(() => {
  // A failed case must not leave its demo behind for the next one: by PID, whatever is still there.
  for (const run of launched.splice(0)) {
    for (const p of run.procs) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
    rmSync(run.baseDir, { recursive: true, force: true });
  }
});

function launch(command: string, args: string[]): Demo {
  const child = spawn(command, args, {
    cwd: process.cwd(),
    env: { ...process.env, CACHETAIL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as a terminal would start it: nothing aimed at the test run reaches it.
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function readProc(pid: number): (Proc & { ppid: number; state: string }) | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, comm, cmdline, ppid: Number(ppid), state };
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  const p = readProc(pid);
  return p !== null && p.state !== 'Z';
}

/** `root` and every process below it now, from the parent links in /proc. */
function processTree(root: number): Proc[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((p) => p !== null);
  const tree = all.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((p) => p.ppid === tree[i].pid));
  return tree.map(({ pid, comm, cmdline }) => ({ pid, comm, cmdline }));
}

interface Running {
  demo: Demo;
  procs: Proc[];
  baseDir: string;
}

/** Launches the demo, waits until it answers on its ports, and takes the list of what it started. */
async function runningDemo(command: string, args: string[]): Promise<Running> {
  const demo = launch(command, args);
  await waitFor(
    'the demo to be ready',
    () => (demo.output().includes('Press Ctrl-C') ? true : undefined),
    150_000,
    100,
  );
  const out = demo.output();
  const dashboard = /Dashboard {8}(\S+)/.exec(out)![1];
  expect((await fetch(new URL('api/state', dashboard))).status).toBe(200);
  const edge = /Edge proxy {7}(\S+)/.exec(out)![1];
  expect((await fetch(edge, { headers: { accept: 'application/json' } })).status).toBe(200);
  const procs = processTree(demo.child.pid!);
  const baseDir = /devcluster: \S+ base dir (\S+)/.exec(out)![1];
  launched.push({ demo, procs, baseDir });
  const count = (comm: string) => procs.filter((p) => p.comm === comm).length;
  // Not a vacuous list: both databases, both memcached tiers and the cluster's reaper are in it.
  expect([count('mariadbd'), count('memcached')]).toEqual([2, 2]);
  expect(procs.filter((p) => p.cmdline.startsWith('cachetail-reaper ')).length).toBe(1);
  expect(existsSync(baseDir)).toBe(true);
  return { demo, procs, baseDir };
}

/** Waits until every process of the demo and its base dir are gone; how long that took. */
async function gone(run: Running, withinMs: number): Promise<number> {
  const since = Date.now();
  const left = () => run.procs.filter((p) => alive(p.pid));
  try {
    await waitFor(
      'every process and the base dir to be gone',
      () => (left().length === 0 && !existsSync(run.baseDir) ? true : undefined),
      withinMs,
      50,
    );
  } catch (err) {
    const still = left().map((p) => `${p.pid} ${p.cmdline.slice(0, 80)}`);
    throw new Error(
      `${(err as Error).message}\nstill running: ${still.join('; ') || 'none'}\n` +
        `base dir ${existsSync(run.baseDir) ? 'still there' : 'gone'}\noutput:\n${run.demo.output()}`,
    );
  }
  return Date.now() - since;
}

const nodeProcess = (run: Running): Proc => run.procs.find((p) => p.cmdline.includes('src/cli.ts demo'))!;

describe('stopping the demo with a signal', () => {
  it('SIGTERM to `npm start`: npm passes it on, the demo stops in order, nothing is left', async () => {
    const run = await runningDemo('npm', ['start', '--silent', '--', '--no-kafka']);
    expect(run.procs[0].cmdline).toMatch(/^npm start/);
    // `exec` in the start script: npm's child is the demo itself, no shell between them.
    expect(nodeProcess(run).cmdline).toMatch(/^node --import tsx src\/cli\.ts demo/);

    process.kill(run.demo.child.pid!, 'SIGTERM');
    await gone(run, BOUND_MS);
    expect(await run.demo.exited).toBe(0);
    expect(run.demo.output().trimEnd().endsWith('Stopped; all servers ended and their files removed.')).toBe(
      true,
    );
  }, 240_000);

  it('SIGINT to `tsx src/cli.ts demo`: tsx relays it, nothing is left', async () => {
    const run = await runningDemo('node_modules/.bin/tsx', ['src/cli.ts', 'demo', '--no-kafka']);
    expect(run.procs[0].cmdline).toMatch(/tsx src\/cli\.ts demo/);

    process.kill(run.demo.child.pid!, 'SIGINT');
    // No exit code asserted: tsx SIGKILLs its child when the child does not confirm the relayed signal
    // within 30 ms (a busy machine), and then the cluster's reaper cleans up instead of the demo.
    await gone(run, BOUND_MS);
  }, 240_000);

  it('SIGTERM to the node process while a server hangs: a second SIGTERM stops everything at once', async () => {
    const run = await runningDemo('npm', ['start', '--silent', '--', '--no-kafka']);
    const primary = run.procs.find((p) => p.comm === 'mariadbd' && p.cmdline.includes('/primary/data'))!;
    // Frozen, the primary can neither answer its clients nor act on the orderly stop's SIGTERM.
    process.kill(primary.pid, 'SIGSTOP');
    const node = nodeProcess(run);

    process.kill(node.pid, 'SIGTERM');
    await waitFor('the stop to begin', () => (run.demo.output().includes('Stopping…') ? true : undefined));
    await sleep(ECHO_MS + 500);
    expect(alive(node.pid)).toBe(true);
    process.kill(node.pid, 'SIGTERM');
    expect(await gone(run, 10_000)).toBeLessThan(10_000);
    expect(run.demo.output()).toContain('Stopping at once: every server is killed and its files removed.');
    expect(run.demo.output()).not.toContain('Stopped; all servers ended');
    expect(await run.demo.exited).toBe(143);
  }, 240_000);
});
