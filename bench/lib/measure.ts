/**
 * Runs a command the way a benchmark compares programs: stdout to /dev/null (or captured), wall time
 * measured here around the whole process, peak RSS from GNU time (`/usr/bin/time -v`, Debian package
 * `time`) or, where that is missing, by polling /proc/<pid>/status for VmHWM.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Run {
  wallMs: number;
  /** User + system CPU time of the process (all threads); NaN without GNU time. */
  cpuMs: number;
  /** Peak resident set size in bytes. */
  maxRss: number;
  stdout: string;
}

const GNU_TIME = '/usr/bin/time';

export function peakRssSource(): string {
  return existsSync(GNU_TIME) ? '/usr/bin/time -v' : '/proc/<pid>/status VmHWM polling';
}

export async function measure(
  cmd: string,
  args: string[],
  opts: { captureStdout?: boolean } = {},
): Promise<Run> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cachetail-bench-'));
  const timeFile = path.join(dir, 'time.txt');
  const useTime = existsSync(GNU_TIME);
  const [file, argv] = useTime ? [GNU_TIME, ['-v', '-o', timeFile, cmd, ...args]] : [cmd, args];
  try {
    const started = performance.now();
    const child = spawn(file, argv, { stdio: ['ignore', opts.captureStdout ? 'pipe' : 'ignore', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let polled = 0;
    const poll = useTime ? undefined : setInterval(() => (polled = Math.max(polled, vmHwm(child.pid))), 5);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    const wallMs = performance.now() - started;
    if (poll) clearInterval(poll);
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`);
    const report = useTime ? readFileSync(timeFile, 'utf8') : '';
    const maxRss = useTime
      ? Number(timeField(report, 'Maximum resident set size \\(kbytes\\)')) * 1024
      : polled;
    const cpuMs = useTime
      ? (Number(timeField(report, 'User time \\(seconds\\)')) +
          Number(timeField(report, 'System time \\(seconds\\)'))) *
        1000
      : NaN;
    return { wallMs, cpuMs, maxRss, stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeField(text: string, label: string): string {
  const m = new RegExp(`${label}: ([\\d.]+)`).exec(text);
  if (!m) throw new Error(`no "${label}" in /usr/bin/time output: ${text}`);
  return m[1];
}

function vmHwm(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
