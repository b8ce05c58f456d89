/**
 * Every cachetail setting the deploy files use exists in cachetail's config schemas: each CACHETAIL_*
 * variable is one the command's loader reads (src/config/tailer.ts tailerEnvPaths, src/config/edge.ts
 * edgeEnvPaths — an unknown name would be ignored silently), and each config file plus the environment
 * it runs with loads through the same loader and schema (strict: an unknown or misspelt key fails).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IContainer as Container, IPodSpec as PodSpec } from 'kubernetes-models/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { edgeConfigSchema, edgeEnvPaths } from '../../../src/config/edge.js';
import { loadConfig } from '../../../src/config/load.js';
import { tailerConfigSchema } from '../../../src/config/schema.js';
import { tailerEnvPaths } from '../../../src/config/tailer.js';
import { EDGE_ENV, TAILER_ENV, yamlDoc, yamlDocs } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'cachetail-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Command = 'tail' | 'edge';

/** Loads `config` (JSON text, or none) with `env` the way `cachetail <command>` does; returns the result. */
function load(command: Command, config: string | undefined, env: Record<string, string>) {
  let file: string | undefined;
  if (config !== undefined) {
    file = join(scratch, `${command}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, config);
  }
  return command === 'tail'
    ? loadConfig({ schema: tailerConfigSchema, envPaths: tailerEnvPaths, file, env })
    : loadConfig({ schema: edgeConfigSchema, envPaths: edgeEnvPaths, file, env });
}

function expectKnownEnv(command: Command, names: string[], where: string): void {
  const known = command === 'tail' ? TAILER_ENV : EDGE_ENV;
  for (const name of names.filter((n) => n.startsWith('CACHETAIL_'))) {
    expect(known.has(name), `${where}: ${name} is not read by cachetail ${command}`).toBe(true);
  }
}

describe('kubernetes', () => {
  const dir = 'deploy/kubernetes';
  const objects = yamlDoc<{ resources: string[] }>(join(dir, 'kustomization.yaml')).resources.flatMap(
    (f) =>
      yamlDocs(join(dir, f)) as { kind: string; metadata: { name: string }; data?: Record<string, string> }[],
  );
  const configMap = (name: string) =>
    objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)!;

  function containerConfig(
    spec: PodSpec,
    c: Container,
  ): { command: Command; config: string; env: Record<string, string> } {
    const [command, flag, path] = c.args ?? [];
    expect(['tail', 'edge']).toContain(command);
    expect(flag).toBe('--config');
    // The config file comes from the ConfigMap mounted at its directory.
    const mount = c.volumeMounts!.find((m) => path.startsWith(`${m.mountPath}/`))!;
    const volume = spec.volumes!.find((v) => v.name === mount.name)!;
    const config = configMap(volume.configMap!.name!).data![path.slice(mount.mountPath.length + 1)];
    // Values from secrets stand in as placeholders: what matters is that the name is read.
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? 'from-a-secret']));
    return { command: command as Command, config, env };
  }

  const workloads = objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment');
  const cachetail = workloads.flatMap((w) => {
    const spec = (w as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
    return spec.containers.filter((c) => c.image === 'cachetail').map((c) => ({ w, spec, c }));
  });

  it('finds the tailer and the edge', () => {
    expect(cachetail.map(({ w, c }) => `${w.metadata.name}/${c.name}`)).toEqual([
      'mariadb-replica/cachetail-tailer',
      'cachetail-edge/edge',
    ]);
  });

  it('uses only environment variables the commands read, and configs that load', () => {
    for (const { w, spec, c } of cachetail) {
      const { command, config, env } = containerConfig(spec, c);
      expectKnownEnv(command, Object.keys(env), `${w.metadata.name}/${c.name}`);
      expect(() => load(command, config, env), `${w.metadata.name}/${c.name}`).not.toThrow();
    }
  });

  it('agrees with itself: ports, state dir, drain time, and the edge reading this tailer', () => {
    const tailer = cachetail.find(({ c }) => c.name === 'cachetail-tailer')!;
    const t = containerConfig(tailer.spec, tailer.c);
    const tc = load('tail', t.config, t.env) as ReturnType<typeof tailerConfigSchema.parse>;
    expect(tc.status.host).toBe('0.0.0.0');
    expect(tailer.c.ports!.find((p) => p.name === 'tailer-status')!.containerPort).toBe(tc.status.port);
    expect(tailer.c.volumeMounts!.map((m) => m.mountPath)).toContain(tc.stateDir);
    expect(tailer.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(tc.shutdown.drainMs + 5_000);
    expect(tc.source.host).toBe('127.0.0.1');
    expect(tc.source.passwordFile).toBe('/run/secrets/cachetail-db/password');

    const edge = cachetail.find(({ c }) => c.name === 'edge')!;
    const e = containerConfig(edge.spec, edge.c);
    const ec = load('edge', e.config, e.env) as ReturnType<typeof edgeConfigSchema.parse>;
    expect(ec.region).toBe(tc.region);
    expect(ec.tailers.statusUrls).toEqual([
      `http://mariadb-replica-0.mariadb-replica.eu-west.svc.cluster.local:${tc.status.port}/status`,
    ]);
    expect(ec.tailers.maxLagSeconds).toBeLessThanOrEqual(ec.cookie.windowMs / 1000);
    expect(tc.status.maxLagSeconds).toBeLessThanOrEqual(ec.cookie.windowMs / 1000);
    expect(edge.c.ports!.find((p) => p.name === 'http')!.containerPort).toBe(ec.listen.port);
    expect(edge.c.ports!.find((p) => p.name === 'admin')!.containerPort).toBe(ec.admin.port);
    expect(ec.cookie.secure).toBe(true);
  });

  it('rejects a misspelt key (the check has teeth)', () => {
    expect(() =>
      load(
        'tail',
        JSON.stringify({ source: { user: 'u' }, memcached: { servers: ['a:1'] }, gapPolicyy: 'flush' }),
        {},
      ),
    ).toThrow(/gapPolicyy|Unrecognized key/);
  });
});

describe('docker compose', () => {
  interface Service {
    image?: string;
    build?: { context: string; dockerfile: string };
    command?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    secrets?: string[];
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
  }
  const compose = yamlDoc<{
    services: Record<string, Service>;
    secrets: Record<string, { file: string }>;
    volumes: Record<string, unknown>;
  }>('deploy/compose/docker-compose.yml');
  const services = Object.entries(compose.services);
  const ours = services.filter(([, s]) => s.command?.[0] === 'tail' || s.command?.[0] === 'edge');

  it('runs a tailer and an edge with known variables and loadable settings', () => {
    expect(ours.map(([name, s]) => `${name}:${s.command![0]}`)).toEqual([
      'tailer-eu-west:tail',
      'edge-eu-west:edge',
    ]);
    for (const [name, s] of ours) {
      const command = s.command![0] as Command;
      expectKnownEnv(command, Object.keys(s.environment ?? {}), name);
      expect(() => load(command, undefined, s.environment ?? {}), name).not.toThrow();
    }
  });

  it('wires the edge to the tailer and the apps that exist, with secure defaults', () => {
    const edge = load('edge', undefined, compose.services['edge-eu-west'].environment!) as ReturnType<
      typeof edgeConfigSchema.parse
    >;
    const tailer = load('tail', undefined, compose.services['tailer-eu-west'].environment!) as ReturnType<
      typeof tailerConfigSchema.parse
    >;
    expect(edge.tailers.statusUrls).toEqual([`http://tailer-eu-west:${tailer.status.port}/status`]);
    for (const url of [...Object.values(edge.upstreams), ...edge.tailers.statusUrls]) {
      expect(Object.keys(compose.services), url).toContain(new URL(url).hostname);
    }
    expect(tailer.memcached.servers.map((s) => s.split(':')[0])).toEqual(['memcached-eu-west']);
    expect(compose.services[tailer.source.host]).toBeDefined();
    // The password arrives as a compose secret file, never as a value.
    expect(tailer.source.password).toBe('');
    expect(tailer.source.passwordFile).toBe('/run/secrets/cachetail_db_password');
    expect(edge.cookie.keysFile).toBe('/run/secrets/cookie_keys');
  });

  it('publishes ports on 127.0.0.1 only and refers only to declared services, secrets and volumes', () => {
    for (const [name, s] of services) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      for (const secret of s.secrets ?? [])
        expect(compose.secrets[secret], `${name} ${secret}`).toBeDefined();
      for (const dep of Object.keys(s.depends_on ?? {}))
        expect(compose.services[dep], `${name} → ${dep}`).toBeDefined();
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0];
        if (source.startsWith('.')) expect(existsSync(join('deploy/compose', source)), v).toBe(true);
        else expect(compose.volumes[source], `${name} ${v}`).not.toBeUndefined();
      }
      if (s.image && !s.build && !s.image.startsWith('cachetail:'))
        expect(s.image, name).toMatch(/:[\w.-]+$/);
      // Secrets only as files (`…_FILE`), never as values in the compose file.
      for (const k of Object.keys(s.environment ?? {}))
        expect(/PASSWORD$|KEYS$/.test(k), `${name} ${k}`).toBe(false);
    }
    for (const secret of Object.values(compose.secrets)) expect(secret.file).toMatch(/^\.\/secrets\//);
    const build = compose.services['tailer-eu-west'].build!;
    expect(readFileSync(join('deploy/compose', build.context, build.dockerfile), 'utf8')).toContain(
      'ENTRYPOINT',
    );
  });
});

describe('systemd examples', () => {
  const unitEnv = (unit: string): Record<string, string> =>
    Object.fromEntries(
      readFileSync(`deploy/systemd/${unit}`, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('Environment='))
        .map((l) => l.slice('Environment='.length).split('=') as [string, string]),
    );

  it('loads tailer.json with the unit environment, and edge.json likewise', () => {
    for (const [command, unit, config] of [
      ['tail', 'cachetail-tail.service', 'tailer.json'],
      ['edge', 'cachetail-edge.service', 'edge.json'],
    ] as const) {
      const env = unitEnv(unit);
      expectKnownEnv(command, Object.keys(env), unit);
      const loaded = load(command, readFileSync(`deploy/systemd/${config}`, 'utf8'), env);
      expect(loaded).toBeDefined();
    }
    const tailer = load(
      'tail',
      readFileSync('deploy/systemd/tailer.json', 'utf8'),
      unitEnv('cachetail-tail.service'),
    ) as ReturnType<typeof tailerConfigSchema.parse>;
    expect(tailer.stateDir).toBe('/var/lib/cachetail');
    expect(tailer.status.host).toBe('127.0.0.1');
    expect(tailer.source.passwordFile).toBe('%d/db-password');
  });
});
