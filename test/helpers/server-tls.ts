/**
 * TLS for a test server of any line, and the CA file a client trusts it with.
 *
 * MySQL generates a CA and a server certificate at --initialize and serves them by default: every
 * server copied from the line's template has them in its datadir (<server dir>/data/ca.pem). MariaDB
 * generates none (11.4+ makes an ephemeral self-signed one that only its own clients can verify), so
 * for it a CA and a server certificate are made here with openssl and passed as server options.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { ExtraServers, ServerEndpoint } from '../../src/devcluster/index.js';

export interface ServerTls {
  /** Options to start a server with (none on MySQL, which serves its own certificates). */
  options: string[];
  /** The PEM file that signed `server`'s certificate, as this host sees it. */
  caFile(server: ServerEndpoint): string;
}

export function serverTls(extra: ExtraServers): ServerTls {
  if (extra.driver.flavor === 'mysql') {
    // The server's directory holds its socket and its datadir (src/devcluster/mysql.ts).
    return { options: [], caFile: (server) => join(dirname(server.socket), 'data', 'ca.pem') };
  }
  const dir = join(extra.baseDir, 'tls');
  mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const days = ['-days', '2'];
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    ...days,
    '-subj',
    '/CN=cachetail test CA',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=cachetail test server',
    '-keyout',
    'server-key.pem',
    '-out',
    'server.csr',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    ...days,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-set_serial',
    '1',
    '-out',
    'server-cert.pem',
  );
  // A chrooted server sees the files under its root.
  const root = extra.driver.root;
  const seen = (file: string) => {
    const host = join(dir, file);
    return root === null ? host : `/${relative(root, host)}`;
  };
  return {
    options: [
      `--ssl-ca=${seen('ca.pem')}`,
      `--ssl-cert=${seen('server-cert.pem')}`,
      `--ssl-key=${seen('server-key.pem')}`,
    ],
    caFile: () => join(dir, 'ca.pem'),
  };
}
