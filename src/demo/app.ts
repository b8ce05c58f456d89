/**
 * The demo's tiny application, one instance per region: a users page that reads through the region's
 * memcached tier from the region's own database (the primary in the master region, the replica
 * elsewhere), and a rename form that writes to the primary. It uses the application library the way a
 * real app would: `getOrLoad` (add-only fills) to read, `withInvalidation` to write (the annotation rides
 * in the transaction; the writer deletes the key from its own region's tier after COMMIT), and it tells
 * the edge the write's GTID (`x-cachetail-gtid`) so position mode can unpin the writer early.
 *
 * No authentication and no CSRF token: it listens on 127.0.0.1 for one person trying the demo.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type memjs from 'memjs';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { getOrLoad, withInvalidation } from '../app/index.js';
import { GTID_HEADER } from '../edge/index.js';

export const DEMO_DB = 'demo';
export const CARRIER_TABLE = `${DEMO_DB}.cachetail_carrier`;
/** Cached profiles live this long: "stale for an hour" is what the scenario shows being prevented. */
export const PROFILE_TTL_SECONDS = 3600;
export const PROFILE_TYPE = 'demo-user@1';

export interface User {
  login: string;
  name: string;
}

export const userKey = (login: string): string => `user:${login}`;
/** The login a key names, or null for a key that is not a user's. */
export const loginOf = (key: string): string | null => (key.startsWith('user:') ? key.slice(5) : null);

export interface DemoAppOptions {
  region: string;
  role: 'master' | 'replica';
  /** The region's own database: reads come from here. */
  readDb: Pool;
  /** Writes always go to the primary, whichever region handles them. */
  primary: Pool;
  /** The region's memcached tier. */
  cache: memjs.Client;
}

/** What GET /users/:login answers with `accept: application/json`. */
export interface UserRead extends User {
  region: string;
  /** Where the name came from: the region's cache, or its database after a miss. */
  source: 'cache' | 'database';
}

const isUser = (v: unknown): v is User =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as User).login === 'string' &&
  typeof (v as User).name === 'string';

export async function loadUser(db: Pool, login: string): Promise<User | null> {
  const [rows] = await db.query<RowDataPacket[]>(`SELECT login, name FROM ${DEMO_DB}.users WHERE login = ?`, [
    login,
  ]);
  const row = rows[0];
  return row ? { login: String(row.login), name: String(row.name) } : null;
}

/** The read path: the region's cache, else its database (then filled with `add`). */
export async function readUser(
  opts: Pick<DemoAppOptions, 'readDb' | 'cache'>,
  login: string,
): Promise<{ user: User | null; source: 'cache' | 'database' }> {
  let loaded = false;
  const user = await getOrLoad<User | null>(
    opts.cache,
    userKey(login),
    async () => {
      loaded = true;
      return loadUser(opts.readDb, login);
    },
    {
      ttl: PROFILE_TTL_SECONDS,
      type: PROFILE_TYPE,
      validate: (v): v is User | null => v === null || isUser(v),
    },
  );
  return { user, source: loaded ? 'database' : 'cache' };
}

/**
 * The write path: one transaction on the primary naming the key it makes stale; after COMMIT the key is
 * deleted from `localCache` (this region's tier). Returns the GTID the primary assigned (withInvalidation's
 * onCommit: MariaDB @@last_gtid, MySQL the session-tracked GTID of the COMMIT; '' when unknown).
 */
export async function renameUser(
  primary: Pool,
  localCache: memjs.Client,
  login: string,
  name: string,
): Promise<{ changed: boolean; gtid: string }> {
  let gtid = '';
  const changed = await withInvalidation(
    primary,
    async (tx) => {
      // Existence first: affectedRows of an UPDATE to the same name depends on client flags.
      const [found] = await tx.query<RowDataPacket[]>(
        `SELECT 1 FROM ${DEMO_DB}.users WHERE login = ? FOR UPDATE`,
        [login],
      );
      if (found.length === 0) return false;
      await tx.query(`UPDATE ${DEMO_DB}.users SET name = ? WHERE login = ?`, [name, login]);
      tx.dirty(userKey(login));
      return true;
    },
    { carrierTable: CARRIER_TABLE, local: { client: localCache }, onCommit: (c) => (gtid = c.gtid) },
  );
  return { changed, gtid: changed ? gtid : '' };
}

const NAME = /^[\p{L}\p{N} .'_-]{1,64}$/u;

export async function buildDemoApp(opts: DemoAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  // HTML forms post urlencoded bodies; fastify parses only JSON out of the box.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-demo-region', opts.region);
    reply.header('cache-control', 'no-store');
  });

  const wantsJson = (req: FastifyRequest): boolean =>
    String(req.headers.accept ?? '').includes('application/json');

  app.get('/', async (_req, reply) => reply.redirect('/users'));

  app.get('/users', async (_req, reply) => {
    const [rows] = await opts.readDb.query<RowDataPacket[]>(
      `SELECT login, name FROM ${DEMO_DB}.users ORDER BY login`,
    );
    const items = rows
      .map(
        (r) =>
          `<li><a href="/users/${encodeURIComponent(String(r.login))}">${escapeHtml(String(r.login))}</a></li>`,
      )
      .join('');
    return html(reply, `Users — ${opts.region}`, `<h1>Users</h1><ul>${items}</ul>${footer(opts)}`);
  });

  app.get<{ Params: { login: string } }>('/users/:login', async (req, reply) => {
    const { user, source } = await readUser(opts, req.params.login);
    if (!user) return reply.code(404).send(wantsJson(req) ? { error: 'no such user' } : 'no such user\n');
    if (wantsJson(req)) return { ...user, region: opts.region, source } satisfies UserRead;
    const login = encodeURIComponent(user.login);
    return html(
      reply,
      `${user.name} — ${opts.region}`,
      `<h1>${escapeHtml(user.name)}</h1>
<p>login <code>${escapeHtml(user.login)}</code> · served by <b>${escapeHtml(opts.region)}</b>
(${opts.role} region) from its ${source === 'cache' ? 'memcached tier (cache hit)' : 'database (cache miss, then cached)'}</p>
<form method="post" action="/users/${login}/rename">
  <label>New name <input name="name" value="${escapeHtml(user.name)}" maxlength="64" required></label>
  <button type="submit">Rename</button>
</form>
<p><a href="/users">all users</a></p>${footer(opts)}`,
    );
  });

  app.post<{ Params: { login: string }; Body: { name?: unknown } | undefined }>(
    '/users/:login/rename',
    async (req, reply) => {
      const name = typeof req.body?.name === 'string' ? req.body.name.trim() : '';
      if (!NAME.test(name)) {
        return reply.code(400).send({ error: "name: 1-64 letters, digits, spaces or . ' _ -" });
      }
      const { changed, gtid } = await renameUser(opts.primary, opts.cache, req.params.login, name);
      if (!changed) return reply.code(404).send({ error: 'no such user' });
      // The edge reads this to pin the writer until the local tailer has passed this GTID.
      if (gtid) reply.header(GTID_HEADER, gtid);
      if (wantsJson(req)) return { login: req.params.login, name, gtid, region: opts.region };
      return reply.code(303).redirect(`/users/${encodeURIComponent(req.params.login)}`);
    },
  );
  return app;
}

function footer(opts: DemoAppOptions): string {
  return `<hr><p><small>cachetail demo app · region ${escapeHtml(opts.region)} (${opts.role}) · reads from the
${opts.role === 'master' ? 'primary' : 'replica'}, writes to the primary</small></p>`;
}

function html(reply: FastifyReply, title: string, body: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:640px;margin:40px auto;color:#1d2330}</style></head>
<body>${body}</body></html>\n`);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
