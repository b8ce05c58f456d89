/**
 * The package as users install it (issue #17): `npm pack` builds (prepack) and packs a copy of this
 * checkout, the tarball is installed into a scratch project, and every published entry point is imported
 * there as README and docs show — by node, and by tsc against the package's own types. Needs no database
 * server; slow: a build, and an `npm install` of the package's dependencies (from the npm cache when it
 * has them, else from the registry).
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const SETUP_TIMEOUT_MS = 600_000;

/** The named exports README and docs/ show for each entry point, with what each must be. */
const DOCUMENTED = {
  'cachetail/app': {
    withInvalidation: 'function',
    getOrLoad: 'function',
    annotate: 'function',
    schemaSql: 'function',
    trackWriteGtids: 'function',
    lastWriteGtid: 'function',
  },
  'cachetail/edge': {
    loadEdgeConfig: 'function',
    edgeConfigSchema: 'object',
    createEdgeRouter: 'function',
    edgePlugin: 'function',
    createEdgeMiddleware: 'function',
    buildEdgeProxy: 'function',
    buildEdgeAdmin: 'function',
  },
  'cachetail/consumer': {
    loadConsumerConfig: 'function',
    consumerConfigSchema: 'object',
    createConsumer: 'function',
    Applier: 'function',
  },
  'cachetail/annotate': {
    ANNOTATION_KEYWORD: 'string',
    GRAMMAR_VERSION: 'number',
    MAX_KEY_BYTES: 'number',
    encodeKey: 'function',
    decodeKey: 'function',
    validateKey: 'function',
    formatAnnotation: 'function',
    annotate: 'function',
    extractAnnotations: 'function',
    lexOptionsFromSqlMode: 'function',
    scanSql: 'function',
  },
} as const;

const COOKIE_KEY = `k1:${'s'.repeat(40)}`;

/** Run by node in the scratch project: reports what each entry point exports and what it does. */
const IMPORT_SCRIPT = `
import { readFileSync, writeFileSync } from 'node:fs';
import Fastify from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import * as app from 'cachetail/app';
import * as edge from 'cachetail/edge';
import * as consumer from 'cachetail/consumer';
import * as annotate from 'cachetail/annotate';

const modules = { 'cachetail/app': app, 'cachetail/edge': edge, 'cachetail/consumer': consumer, 'cachetail/annotate': annotate };
const documented = ${JSON.stringify(DOCUMENTED)};
const kinds = Object.fromEntries(
  Object.entries(documented).map(([name, exports]) => [
    name,
    Object.fromEntries(Object.keys(exports).map((e) => [e, typeof modules[name][e]])),
  ]),
);

const annotated = annotate.annotate('UPDATE users SET name = ? WHERE id = ?', ['user:42:profile', 'café:1']);
const sqlFile = readFileSync('node_modules/cachetail/sql/cachetail-app.sql', 'utf8');

writeFileSync('edge.json', JSON.stringify({ region: 'eu', masterRegion: 'us', cookie: { keys: [${JSON.stringify(COOKIE_KEY)}], secure: false } }));
const log = pino({ level: 'silent' });
const registry = new Registry();
const router = edge.createEdgeRouter(edge.loadEdgeConfig('edge.json', {}), { registry, log });
const server = Fastify();
await server.register(edge.edgePlugin, { router });
const decision = async (req) => ({ region: req.cachetail.region, reason: req.cachetail.reason });
server.get('/feed', decision);
server.post('/feed', decision);
const read = await server.inject({ method: 'GET', url: '/feed' });
const write = await server.inject({ method: 'POST', url: '/feed' });
await server.close();

const consumerConfig = consumer.loadConsumerConfig(undefined, {
  CACHETAIL_REGION: 'eu',
  CACHETAIL_KAFKA_BROKERS: '127.0.0.1:9092',
  CACHETAIL_MEMCACHED_SERVERS: '127.0.0.1:11211',
});
const built = consumer.createConsumer(consumerConfig, log);

console.log(JSON.stringify({
  kinds,
  annotated,
  extracted: annotate.extractAnnotations(annotated).keys,
  appAnnotateIsTheGrammars: app.annotate === annotate.annotate,
  sqlFileIsSchemaSql: sqlFile === app.schemaSql(),
  edge: {
    read: [read.statusCode, read.json(), read.headers['x-cachetail-region']],
    write: [write.statusCode, write.json(), String(write.headers['set-cookie']).split('.').slice(0, 2).join('.')],
    middlewareArity: edge.createEdgeMiddleware(router).length,
    decisionsCounted: (await registry.getSingleMetricAsString('cachetail_edge_decisions_total')).includes('reason="write"} 1'),
  },
  consumer: { groupId: built.groupId, parts: Object.keys(built).sort() },
}));
`;

/**
 * Type-checked (never run) in the scratch project: the README/docs snippets against the shipped .d.ts
 * files. Each @ts-expect-error fails the check if the package's types were missing or `any`.
 */
const TYPED_SOURCE = `
import Fastify from 'fastify';
import type { Pool } from 'mysql2/promise';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { getOrLoad, withInvalidation, type ReadThroughClient } from 'cachetail/app';
import {
  createEdgeMiddleware,
  createEdgeRouter,
  edgePlugin,
  loadEdgeConfig,
  type EdgeConfig,
  type EdgeRouter,
} from 'cachetail/edge';
import { createConsumer, loadConsumerConfig, type ConsumerConfig } from 'cachetail/consumer';
import { annotate, extractAnnotations, type Annotation } from 'cachetail/annotate';

declare const pool: Pool;
declare const regionCache: ReadThroughClient;
const log = pino();

await withInvalidation(pool, async (tx) => {
  await tx.execute('UPDATE users SET name = ? WHERE id = ?', ['Monkey', 42]);
  tx.dirty('user:42:profile');
  // @ts-expect-error keys are strings
  tx.dirty(42);
});
const profile: { name: string } = await getOrLoad(regionCache, 'user:42:profile', () => ({ name: 'Monkey' }), {
  ttl: 3600,
});

const config: EdgeConfig = loadEdgeConfig('edge.json', process.env);
const router: EdgeRouter = createEdgeRouter(config, { registry: new Registry(), log });
const app = Fastify();
await app.register(edgePlugin, { router, accessLog: log.child({ module: 'edge-access' }) });
app.get('/feed', async (req) => ({ region: req.cachetail.region, name: profile.name }));
const middleware = createEdgeMiddleware(router, { accessLog: log });
// @ts-expect-error the middleware needs the router
createEdgeMiddleware();

const consumerConfig: ConsumerConfig = loadConsumerConfig(undefined, process.env);
const { consumer, applier, sink } = createConsumer(consumerConfig, log, new Registry());
await sink.start();
await consumer.start();
const lag: Map<number, number> = consumer.lag;
const applied: number = applier.stats.applied;
await consumer.stop();

const sql: string = annotate('UPDATE users SET name = ? WHERE id = ?', ['user:42:profile']);
const found: readonly Annotation[] = extractAnnotations(sql).annotations;
// @ts-expect-error keys are strings
annotate(sql, [42]);

export { found, lag, applied, middleware };
`;

interface Ran {
  code: number;
  output: string;
}

/** Runs a command to its end; a failure is a result to assert on (its output names the cause). */
function run(cwd: string, cmd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function mustRun(cwd: string, cmd: string, args: string[]): Promise<string> {
  const ran = await run(cwd, cmd, args);
  if (ran.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${ran.code}:\n${ran.output}`);
  return ran.output;
}

/**
 * This checkout as a fresh clone would have it (tracked and new files, nothing ignored), with the repo's
 * node_modules linked in: the build writes its own dist/, never the working tree's.
 */
async function copyCheckout(to: string): Promise<void> {
  const listed = await mustRun(REPO, 'git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  for (const file of listed.split('\0')) {
    // A tracked file deleted in the working tree is not part of it.
    if (file === '' || !existsSync(join(REPO, file))) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(REPO, file), join(to, file));
  }
  symlinkSync(join(REPO, 'node_modules'), join(to, 'node_modules'), 'dir');
}

function writeScratchProject(dir: string): void {
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
  );
  writeFileSync(join(dir, 'check.mjs'), IMPORT_SCRIPT);
  writeFileSync(join(dir, 'typed.ts'), TYPED_SOURCE);
  const compilerOptions = {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    // @types/node is the user's own; the repo's copy stands in for it.
    types: ['node'],
    typeRoots: [join(REPO, 'node_modules', '@types')],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['typed.ts'] }));
}

describe('the npm package, installed from its tarball', () => {
  let tmp = '';
  let tarballFiles: string[] = [];
  let project = '';

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cachetail-package-'));
    const checkout = join(tmp, 'checkout');
    await copyCheckout(checkout);
    await mustRun(checkout, 'npm', ['pack', '--pack-destination', tmp, '--loglevel=error']);
    const tarball = join(tmp, 'cachetail-0.1.0.tgz');
    tarballFiles = (await mustRun(tmp, 'tar', ['-tzf', tarball])).split('\n').filter((f) => f !== '');
    project = join(tmp, 'project');
    writeScratchProject(project);
    await mustRun(project, 'npm', [
      'install',
      tarball,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
    ]);
  }, SETUP_TIMEOUT_MS);

  afterAll(() => {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('ships the SQL README tells users to run, the built entry points, and no source maps', () => {
    expect(tarballFiles).toContain('package/sql/cachetail-app.sql');
    expect(tarballFiles).toContain('package/dist/cli.js');
    for (const entry of ['app', 'edge', 'consumer', 'annotate']) {
      expect(tarballFiles).toContain(`package/dist/${entry}/index.js`);
      expect(tarballFiles).toContain(`package/dist/${entry}/index.d.ts`);
    }
    expect(tarballFiles.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(tarballFiles.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual(
      [],
    );
  });

  it('imports every entry point in node, with the documented exports working', async () => {
    const ran = await run(project, process.execPath, ['check.mjs']);
    expect(ran.code, ran.output).toBe(0);
    expect(JSON.parse(ran.output)).toEqual({
      kinds: DOCUMENTED,
      annotated: 'UPDATE users SET name = ? WHERE id = ? /* MEMCACHE_DIRTY user:42:profile,caf%C3%A9:1 */',
      extracted: ['user:42:profile', 'café:1'],
      appAnnotateIsTheGrammars: true,
      sqlFileIsSchemaSql: true,
      edge: {
        read: [200, { region: 'eu', reason: 'local' }, 'eu'],
        write: [200, { region: 'us', reason: 'write' }, 'cachetail_rw=1.k1'],
        middlewareArity: 3,
        decisionsCounted: true,
      },
      consumer: { groupId: 'cachetail-consume-eu', parts: ['applier', 'consumer', 'groupId', 'sink'] },
    });
  });

  it('type-checks code that uses every entry point against the shipped types (NodeNext)', async () => {
    const ran = await run(project, process.execPath, [TSC, '-p', 'tsconfig.json']);
    expect(ran.output).toBe('');
    expect(ran.code).toBe(0);
  });
});
