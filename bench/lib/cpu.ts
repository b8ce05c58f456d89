/**
 * CPU time of given processes and of the whole machine over a window, from /proc (Linux). On a shared
 * machine a latency tail may come from our process or from the kernel giving the CPU to someone else;
 * this says which processes used how much of the machine while we measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime and stime of a process (all its threads), in seconds; NaN when it is gone. */
export function processCpuSeconds(pid: number): { user: number; sys: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK };
  } catch {
    return { user: NaN, sys: NaN };
  }
}

/** Busy and total CPU seconds of the whole machine since boot (all CPUs summed). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

export interface CpuWindow {
  /** CPU seconds (user + sys) per named process over the window, and the sys (kernel) part alone. */
  processes: Record<string, number>;
  sys: Record<string, number>;
  /** All CPUs' busy seconds over the window, and the window's length in seconds × CPUs. */
  machineBusy: number;
  machineTotal: number;
}

/** Call `start()` at the window's start and `stop()` at its end. */
export function cpuWindow(pids: Record<string, number | undefined>): {
  start(): void;
  stop(): CpuWindow;
} {
  let before: Record<string, { user: number; sys: number }> = {};
  let machine = { busy: 0, total: 0 };
  const read = () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [
        name,
        pid === undefined ? { user: NaN, sys: NaN } : processCpuSeconds(pid),
      ]),
    );
  const diff = (after: typeof before, pick: (c: { user: number; sys: number }) => number) =>
    Object.fromEntries(
      Object.entries(after).map(([k, v]) => [k, pick(v) - (before[k] ? pick(before[k]) : NaN)]),
    );
  return {
    start() {
      before = read();
      machine = machineCpuSeconds();
    },
    stop() {
      const after = read();
      const m = machineCpuSeconds();
      return {
        processes: diff(after, (c) => c.user + c.sys),
        sys: diff(after, (c) => c.sys),
        machineBusy: m.busy - machine.busy,
        machineTotal: m.total - machine.total,
      };
    },
  };
}
