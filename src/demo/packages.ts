/**
 * The system packages `npm start` needs, checked before anything starts, so that a fresh machine gets
 * one message with the one command that installs all of them (instead of one missing binary at a time).
 */
import { DevclusterError } from '../devcluster/index.js';
import { requireBinary } from '../devcluster/proc.js';

/** binary → Debian/Ubuntu package. Kafka (java, maven) is optional in the demo and not listed. */
export const DEMO_BINARIES: Readonly<Record<string, string>> = {
  mariadbd: 'mariadb-server',
  'mariadb-install-db': 'mariadb-server',
  memcached: 'memcached',
};

export interface MissingPackages {
  binaries: string[];
  packages: string[];
  /** The one command that installs them. */
  command: string;
}

export function missingPackages(
  binaries: Readonly<Record<string, string>> = DEMO_BINARIES,
  isRoot = process.getuid?.() === 0,
): MissingPackages | null {
  const missing = Object.keys(binaries).filter((bin) => {
    try {
      requireBinary(bin, '');
      return false;
    } catch (err) {
      if (err instanceof DevclusterError && err.code === 'BINARY_MISSING') return true;
      throw err;
    }
  });
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map((b) => binaries[b]))].sort();
  const command = `${isRoot ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`;
  return { binaries: missing, packages, command };
}

export function missingPackagesMessage(m: MissingPackages): string {
  return [
    `The demo needs ${m.packages.join(' and ')} from your distribution (not found: ${m.binaries.join(', ')}).`,
    'Install them with:',
    '',
    `  ${m.command}`,
    '',
    'then run npm start again. (Debian and Ubuntu package names; the servers are started privately on',
    '127.0.0.1 with their own data directories: a system MariaDB or memcached is not used or changed.)',
  ].join('\n');
}
