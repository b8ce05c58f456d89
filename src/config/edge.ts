/**
 * Configuration of the edge router (`cachetail edge`, and createEdge() for the fastify plugin and the
 * node middleware): defaults and a description per field, loaded from a JSON file and/or CACHETAIL_*
 * environment variables by load.ts, validated once and frozen. Cookie keys from cookie.keysFile are
 * merged in here and checked (id format, minimum length) before anything starts; their text is never
 * logged.
 */
import { z } from 'zod';

const regionName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a region name is 1-64 of [A-Za-z0-9_.-]')
  .describe('region name');
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

/** Env booleans arrive as text. */
const flag = (dflt: boolean) =>
  z.preprocess(
    (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
    z.boolean().default(dflt),
  );

/** `region=url` entries (the env form) or an object (the file form). */
const upstreams = z.preprocess(
  (v) =>
    Array.isArray(v)
      ? Object.fromEntries(
          v.map((e: unknown) => {
            const s = String(e);
            const eq = s.indexOf('=');
            return eq < 0 ? [s, ''] : [s.slice(0, eq), s.slice(eq + 1)];
          }),
        )
      : v,
  z.record(regionName, httpUrl).default({}),
);

const listener = (port: number, what: string) =>
  z
    .object({
      host: z.string().min(1).default('127.0.0.1').describe(`Address the ${what} binds to.`),
      port: z.number().int().min(0).max(65535).default(port),
    })
    .strict()
    .default({ host: '127.0.0.1', port });

type PathOf = { path?: PropertyKey[] | undefined };

/** Whether one of `issues` is about `field` (or something inside it). */
const issueAt = (issues: readonly PathOf[], field: string) => issues.some((i) => i.path?.[0] === field);

/** The upstream check reads the config as an object and upstreams as a map; bad entries inside it are fine. */
const upstreamCheckCanRun = (issues: readonly PathOf[]) =>
  issues.every((i) => {
    const path = i.path ?? [];
    return path.length > 1 || (path.length === 1 && path[0] !== 'upstreams');
  });

/** The cookie section on its own: loadEdgeConfig checks its keys even when other sections are bad. */
export const edgeCookieSchema = z
  .object({
    name: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a cookie name is an HTTP token')
      .default('cachetail_rw'),
    windowMs: z
      .number()
      .int()
      .min(1_000)
      .default(20_000)
      .describe('How long after a write reads are pinned to master (and the cookie Max-Age).'),
    secure: flag(true).describe('Secure attribute; turn off only for plain-http local development.'),
    domain: z.string().min(1).optional().describe('Domain attribute; unset = host-only cookie.'),
    keys: z
      .array(z.string())
      .default([])
      .describe('`id:secret` entries, first signs; prefer CACHETAIL_COOKIE_KEYS or keysFile. Never logged.'),
    keysFile: z.string().optional().describe('File of `id:secret` lines, appended after keys.'),
  })
  .strict();

export const edgeConfigSchema = z
  .object({
    region: regionName.describe('The region this edge runs in (its "local" region).'),
    masterRegion: regionName.describe(
      'The region of the primary database; writes and pinned reads go there.',
    ),
    upstreams: upstreams.describe(
      '`cachetail edge` only: region → upstream base URL; must include region and masterRegion.',
    ),
    listen: listener(8080, 'proxy').describe(
      'The proxy listener (public traffic; set host to 0.0.0.0 to serve).',
    ),
    admin: listener(9465, 'admin listener (/metrics, /healthz)').describe('Keep on loopback.'),
    upstreamTimeoutMs: z.number().int().positive().default(30_000).describe('Upstream headers/body timeout.'),
    routes: z
      .object({
        safe: z
          .array(z.string())
          .default(['/**'])
          .describe('GET/HEAD path patterns the local region may serve (see docs/edge.md).'),
        deny: z.array(z.string()).default([]).describe('Patterns that are never safe; wins over safe.'),
      })
      .strict()
      .default({ safe: ['/**'], deny: [] }),
    // Absent = all defaults, so that a missing key is reported as such (by loadEdgeConfig).
    cookie: edgeCookieSchema.prefault({}),
    tailers: z
      .object({
        statusUrls: z
          .array(httpUrl)
          .default([])
          .describe("The local region's tailers' GET /status URLs; empty = time-only pinning, no fail-safe."),
        positionMode: flag(true).describe("A cookie's GTID unpins once every matching tailer reached it."),
        cacheMs: z
          .number()
          .int()
          .min(0)
          .default(500)
          .describe('How long one round of /status answers is reused.'),
        timeoutMs: z.number().int().positive().default(250).describe('Deadline for one /status request.'),
        maxWatermarkAgeMs: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe(
            'A watermark.updatedAt older than this makes the region unhealthy; 0 = no check (updatedAt only ' +
              'moves when a transaction is acknowledged, so use it only with steady write traffic).',
          ),
        maxLagSeconds: z
          .number()
          .min(0)
          .default(20)
          .describe(
            'lagSeconds above this makes the region unhealthy; 0 = no check. Keep it at most the window: a ' +
              'region further behind than the window serves stale reads to writers whose pin has ended.',
          ),
        failSafe: z
          .enum(['pinned', 'all'])
          .default('pinned')
          .describe('Unhealthy region: send what would have been pinned to master, or every safe request.'),
      })
      .strict()
      .default({
        statusUrls: [],
        positionMode: true,
        cacheMs: 500,
        timeoutMs: 250,
        maxWatermarkAgeMs: 0,
        maxLagSeconds: 20,
        failSafe: 'pinned',
      }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
        access: flag(true).describe(
          'One JSON access-log line per request (region, reason, status, duration).',
        ),
      })
      .strict()
      .default({ level: 'info', access: true }),
  })
  .strict()
  .superRefine(
    (c, ctx) => {
      const named = Object.keys(c.upstreams);
      if (named.length === 0) return;
      for (const field of ['region', 'masterRegion'] as const) {
        if (!issueAt(ctx.issues, field) && !named.includes(c[field])) {
          ctx.addIssue({
            code: 'custom',
            path: ['upstreams'],
            message: `no upstream for region ${c[field]}`,
          });
        }
      }
    },
    // zod skips a refinement once any field is bad; this one runs whenever it can, so that one start
    // names every problem.
    { when: (payload) => upstreamCheckCanRun(payload.issues) },
  );

export type EdgeConfigInput = z.input<typeof edgeConfigSchema>;
export type EdgeConfig = Readonly<z.output<typeof edgeConfigSchema>>;

export const edgeEnvPaths = [
  [['region'], 'string'],
  [['masterRegion'], 'string'],
  [['upstreams'], 'list'],
  [['listen', 'host'], 'string'],
  [['listen', 'port'], 'number'],
  [['admin', 'host'], 'string'],
  [['admin', 'port'], 'number'],
  [['upstreamTimeoutMs'], 'number'],
  [['routes', 'safe'], 'list'],
  [['routes', 'deny'], 'list'],
  [['cookie', 'name'], 'string'],
  [['cookie', 'windowMs'], 'number'],
  [['cookie', 'secure'], 'string'],
  [['cookie', 'domain'], 'string'],
  [['cookie', 'keys'], 'list'],
  [['cookie', 'keysFile'], 'string'],
  [['tailers', 'statusUrls'], 'list'],
  [['tailers', 'positionMode'], 'string'],
  [['tailers', 'cacheMs'], 'number'],
  [['tailers', 'timeoutMs'], 'number'],
  [['tailers', 'maxWatermarkAgeMs'], 'number'],
  [['tailers', 'maxLagSeconds'], 'number'],
  [['tailers', 'failSafe'], 'string'],
  [['log', 'level'], 'string'],
  [['log', 'access'], 'string'],
] as const;
