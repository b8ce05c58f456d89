import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ClusterInfo } from '../../src/devcluster/index.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export interface TailerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** `cachetail tail` as a real child process, configured through CACHETAIL_* variables only. */
export function spawnTailer(
  info: ClusterInfo,
  env: Record<string, string>,
  args: readonly string[] = [],
): TailerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'tail', ...args], {
    cwd: repo,
    env: {
      ...process.env,
      CACHETAIL_SOURCE_HOST: info.replica.host,
      CACHETAIL_SOURCE_PORT: String(info.replica.port),
      CACHETAIL_SOURCE_USER: info.tailerUser.user,
      CACHETAIL_SOURCE_PASSWORD: info.tailerUser.password,
      CACHETAIL_MEMCACHED_SERVERS: info.memcached.replica,
      CACHETAIL_LOG_LEVEL: 'warn',
      CACHETAIL_STATUS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return { child, output: () => out, exited };
}
