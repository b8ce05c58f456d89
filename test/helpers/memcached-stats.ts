import { connect } from 'node:net';

/** `stats` of one memcached server over the text protocol, as numbers where numeric. */
export function memcachedStats(hostPort: string): Promise<Record<string, number>> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), host);
    let text = '';
    sock.setTimeout(5_000, () => sock.destroy(new Error(`memcached ${hostPort}: stats timed out`)));
    sock.on('error', reject);
    sock.on('data', (d) => {
      text += d.toString('latin1');
      if (!text.endsWith('END\r\n')) return;
      sock.end();
      const out: Record<string, number> = {};
      for (const line of text.split('\r\n')) {
        const m = /^STAT (\S+) (\S+)$/.exec(line);
        if (m && m[1] && m[2] !== undefined && /^-?\d+(\.\d+)?$/.test(m[2])) out[m[1]] = Number(m[2]);
      }
      resolve(out);
    });
    sock.write('stats\r\n');
  });
}
