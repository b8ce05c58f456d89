import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEdgeConfig } from '../../../src/edge/config.js';
import { SECRET_A, SECRET_B } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'cachetail-edge-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** The error a load throws, as code and message. */
function failure(load: () => unknown): { code: unknown; message: string } {
  try {
    load();
  } catch (err) {
    return { code: (err as { code?: unknown }).code, message: (err as Error).message };
  }
  throw new Error('the config loaded');
}

const invalid = (...lines: string[]) => ({
  code: 'CONFIG_INVALID',
  message: ['invalid configuration:', ...lines.map((l) => `  ${l}`)].join('\n'),
});

const minimal = {
  CACHETAIL_REGION: 'eu',
  CACHETAIL_MASTER_REGION: 'us',
  CACHETAIL_COOKIE_KEYS: `ka:${SECRET_A}`,
};

describe('edge config', () => {
  it('fills secure defaults and freezes', () => {
    const c = loadEdgeConfig(undefined, minimal);
    expect(c).toEqual({
      region: 'eu',
      masterRegion: 'us',
      upstreams: {},
      listen: { host: '127.0.0.1', port: 8080 },
      admin: { host: '127.0.0.1', port: 9465 },
      upstreamTimeoutMs: 30_000,
      routes: { safe: ['/**'], deny: [] },
      cookie: { name: 'cachetail_rw', windowMs: 20_000, secure: true, keys: [`ka:${SECRET_A}`] },
      tailers: {
        statusUrls: [],
        positionMode: true,
        cacheMs: 500,
        timeoutMs: 250,
        maxWatermarkAgeMs: 0,
        maxLagSeconds: 20,
        failSafe: 'pinned',
      },
      log: { level: 'info', access: true },
    });
    expect(Object.isFrozen(c.cookie)).toBe(true);
    expect(Object.isFrozen(c.tailers.statusUrls)).toBe(true);
  });

  it('reads every kind of field from the environment', () => {
    const c = loadEdgeConfig(undefined, {
      ...minimal,
      CACHETAIL_UPSTREAMS: 'us=http://10.0.0.1:8080, eu=https://eu.internal/app',
      CACHETAIL_COOKIE_SECURE: 'false',
      CACHETAIL_COOKIE_WINDOW_MS: '15000',
      CACHETAIL_COOKIE_KEYS: `kb:${SECRET_B},ka:${SECRET_A}`,
      CACHETAIL_ROUTES_DENY: '/account/**,/logout',
      CACHETAIL_TAILERS_STATUS_URLS: 'http://127.0.0.1:9464/status',
      CACHETAIL_TAILERS_FAIL_SAFE: 'all',
      CACHETAIL_TAILERS_POSITION_MODE: '0',
      CACHETAIL_LISTEN_HOST: '0.0.0.0',
      CACHETAIL_LOG_ACCESS: 'false',
    });
    expect(c.upstreams).toEqual({ us: 'http://10.0.0.1:8080', eu: 'https://eu.internal/app' });
    expect(c.cookie).toMatchObject({
      secure: false,
      windowMs: 15_000,
      keys: [`kb:${SECRET_B}`, `ka:${SECRET_A}`],
    });
    expect(c.routes.deny).toEqual(['/account/**', '/logout']);
    expect(c.tailers).toMatchObject({
      statusUrls: ['http://127.0.0.1:9464/status'],
      failSafe: 'all',
      positionMode: false,
    });
    expect(c.listen.host).toBe('0.0.0.0');
    expect(c.log.access).toBe(false);
  });

  it('appends keys from cookie.keysFile (comments and blank lines skipped)', () => {
    const keys = join(dir, 'keys');
    writeFileSync(keys, `# rotated 2026-01-01\nkb:${SECRET_B}\n\n`);
    const file = join(dir, 'edge.json');
    writeFileSync(file, JSON.stringify({ region: 'eu', masterRegion: 'us', cookie: { keysFile: keys } }));
    expect(loadEdgeConfig(file, {}).cookie.keys).toEqual([`kb:${SECRET_B}`]);
    expect(loadEdgeConfig(file, { CACHETAIL_COOKIE_KEYS: `ka:${SECRET_A}` }).cookie.keys).toEqual([
      `ka:${SECRET_A}`,
      `kb:${SECRET_B}`,
    ]);
  });

  it('refuses to start without a key or with a short one, never quoting the secret', () => {
    expect(failure(() => loadEdgeConfig(undefined, { ...minimal, CACHETAIL_COOKIE_KEYS: '' }))).toEqual(
      invalid(
        'cookie.keys is required (set it in the config file or CACHETAIL_COOKIE_KEYS, or give cookie.keysFile)',
      ),
    );
    expect(
      failure(() => loadEdgeConfig(undefined, { ...minimal, CACHETAIL_COOKIE_KEYS: 'ka:tooShortSecret' })),
    ).toEqual(invalid('cookie.keys: key "ka": secret shorter than 32 bytes'));
    const keys = join(dir, 'empty-keys');
    writeFileSync(keys, '# no key yet\n');
    expect(
      failure(() =>
        loadEdgeConfig(undefined, {
          ...minimal,
          CACHETAIL_COOKIE_KEYS: '',
          CACHETAIL_COOKIE_KEYS_FILE: keys,
        }),
      ),
    ).toEqual(invalid('cookie.keys + cookie.keysFile: no key configured (at least one is required)'));
  });

  it('names every problem in one message: fields, the upstream check and the keys (issue #17 item 5)', () => {
    expect(
      failure(() =>
        loadEdgeConfig(undefined, {
          CACHETAIL_REGION: 'eu',
          CACHETAIL_UPSTREAMS: 'us=ftp://x,ap=http://y',
          CACHETAIL_TAILERS_FAIL_SAFE: 'some',
          CACHETAIL_LISTEN_PORT: 'http',
          CACHETAIL_COOKIE_KEYS: `ka:tooShortSecret,kb:${SECRET_B},kb:${SECRET_B}`,
        }),
      ),
    ).toEqual(
      invalid(
        'CACHETAIL_LISTEN_PORT="http" is not a number',
        'masterRegion is required (set it in the config file or CACHETAIL_MASTER_REGION)',
        'upstreams.us: expected an http(s) URL',
        'tailers.failSafe: Invalid option: expected one of "pinned"|"all"',
        'upstreams: no upstream for region eu',
        'cookie.keys: key "ka": secret shorter than 32 bytes',
        'cookie.keys: key "kb": id used twice',
      ),
    );
  });

  it('an unreadable keys file stops at once, like an unreadable config file', () => {
    expect(
      failure(() => loadEdgeConfig(undefined, { CACHETAIL_COOKIE_KEYS_FILE: join(dir, 'missing-keys') })),
    ).toEqual({
      code: 'CONFIG_READ',
      message: expect.stringMatching(/^cannot read cookie\.keysFile .*missing-keys: ENOENT/),
    });
  });

  it('names every bad field: upstream URLs, missing regions, unknown fields', () => {
    expect(() =>
      loadEdgeConfig(undefined, {
        ...minimal,
        CACHETAIL_UPSTREAMS: 'us=ftp://x,ap=http://y',
        CACHETAIL_TAILERS_FAIL_SAFE: 'some',
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/upstreams\.us: expected an http\(s\) URL[\s\S]*tailers\.failSafe/),
      }),
    );
    expect(() => loadEdgeConfig(undefined, { ...minimal, CACHETAIL_UPSTREAMS: 'us=http://x' })).toThrow(
      'upstreams: no upstream for region eu',
    );
    const file = join(dir, 'unknown.json');
    writeFileSync(
      file,
      JSON.stringify({ region: 'eu', masterRegion: 'us', cookie: { keys: [], secret: 'x' } }),
    );
    expect(() => loadEdgeConfig(file, {})).toThrow(/cookie: Unrecognized key: "secret"/);
  });
});
