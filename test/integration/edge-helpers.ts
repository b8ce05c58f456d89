/**
 * Real HTTP pieces for the edge integration tests: tiny upstream servers standing for the regions (they
 * record what reached them), a tailer /status server whose answer the test moves, and a raw HTTP client
 * that shows every response header as sent. Everything listens on 127.0.0.1, on a free port.
 */
import { createHash } from 'node:crypto';
import {
  request,
  createServer,
  type IncomingHttpHeaders,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Running {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function listen(handler: RequestListener): Promise<Running> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bytes: number;
  sha256: string;
}

/**
 * An upstream standing for one region. It answers `<name> <METHOD> <url>`, echoes the body's size and
 * hash in headers, sets `x-cachetail-gtid` from `gtid` on POST /posts (as an app using the writer
 * library would), and streams `/big?bytes=N` deterministic bytes.
 */
export class Upstream {
  readonly seen: Seen[] = [];
  gtid: string | undefined = undefined;
  running!: Running;
  /** Called at the first body chunk of a POST /slow-upload, before the client has finished sending. */
  onFirstUploadChunk: (() => void) | undefined;
  /** GET /slow writes 'first', then waits for this to be called before writing 'last'. */
  releaseSlow: (() => void) | undefined;

  constructor(readonly name: string) {}

  async start(): Promise<this> {
    this.running = await listen((req, res) => {
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first,');
        this.releaseSlow = () => res.end('last');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        if (chunks.length === 0 && req.url === '/slow-upload') this.onFirstUploadChunk?.();
        chunks.push(c);
      });
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.seen.push({
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          bytes: body.length,
          sha256: sha256(body),
        });
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/big') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          streamBytes(res, Number(url.searchParams.get('bytes')));
          return;
        }
        const headers: Record<string, string> = {
          'content-type': 'text/plain',
          'x-body-bytes': String(body.length),
          'x-body-sha256': sha256(body),
          'x-upstream-custom': 'kept',
          connection: 'x-upstream-hop',
          'x-upstream-hop': 'must not pass',
        };
        if (req.method === 'POST' && url.pathname === '/posts' && this.gtid !== undefined) {
          headers['x-cachetail-gtid'] = this.gtid;
        }
        if (url.pathname === '/redirect') {
          res.writeHead(303, { ...headers, location: '/done' });
          res.end();
          return;
        }
        if (url.pathname === '/fail') {
          res.writeHead(500, headers);
          res.end('failed');
          return;
        }
        res.writeHead(req.method === 'POST' ? 201 : 200, headers);
        res.end(`${this.name} ${req.method} ${req.url}`);
      });
    });
    return this;
  }

  get url(): string {
    return this.running.url;
  }

  close(): Promise<void> {
    return this.running.close();
  }
}

/** Deterministic bytes: block i is filled with i % 251, so a reordering or a lost chunk changes the hash. */
export function patternBytes(total: number): Buffer {
  const out = Buffer.alloc(total);
  for (let off = 0, i = 0; off < total; off += 65_536, i++)
    out.fill(i % 251, off, Math.min(total, off + 65_536));
  return out;
}

function streamBytes(res: ServerResponse, total: number): void {
  const all = patternBytes(total);
  let off = 0;
  const pump = (): void => {
    while (off < total) {
      const next = all.subarray(off, Math.min(total, off + 65_536));
      off += next.length;
      if (!res.write(next)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** A tailer's status server: the test sets `status` (the /status body) or `httpStatus`. */
export class FakeTailer {
  status: Record<string, unknown>;
  httpStatus = 200;
  requests = 0;
  running!: Running;

  constructor(region: string, gtid: string) {
    this.status = {
      region,
      state: 'streaming',
      ready: true,
      watermark: { gtid, file: 'mariadb-bin.000001', position: 4, updatedAt: Date.now() },
      lagSeconds: 0,
      lastError: null,
    };
  }

  async start(): Promise<this> {
    this.running = await listen((req, res) => {
      this.requests++;
      if (req.url !== '/status') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(this.httpStatus, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.status));
    });
    return this;
  }

  set gtid(gtid: string) {
    this.status = {
      ...this.status,
      watermark: { gtid, file: 'mariadb-bin.000001', position: 4, updatedAt: Date.now() },
    };
  }

  get statusUrl(): string {
    return `${this.running.url}/status`;
  }

  close(): Promise<void> {
    return this.running.close();
  }
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP/1.1 request with exactly the given headers; the body may be a Buffer (sent in 64 KiB chunks). */
export function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) {
      for (let off = 0; off < body.length; off += 65_536) req.write(body.subarray(off, off + 65_536));
    }
    req.end();
  });
}

/** `name=value` of a Set-Cookie header, for the next request's Cookie header. */
export function cookiePair(answer: Answer): string {
  const set = answer.headers['set-cookie'];
  if (set === undefined || set.length !== 1)
    throw new Error(`expected one Set-Cookie, got ${JSON.stringify(set)}`);
  return set[0].split(';')[0];
}

/** The value of one series in a Prometheus text exposition, or undefined. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
