/**
 * deploy/kubernetes/: every object validated offline against the Kubernetes 1.27 OpenAPI schemas
 * (kubernetes-models: ajv validators generated from the upstream schemas), the kustomization complete,
 * and the operational rules the manifests exist for: the tailer as a sidecar of the replica with a
 * persistent state volume, probes on /healthz and /readyz, resources, non-root, secrets only from
 * Secret objects (the password as a file), and the edge as a Deployment + Service.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { IContainer as Container, IPodSpec as PodSpec } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { yamlDoc, yamlDocs } from './helpers.js';

const DIR = 'deploy/kubernetes';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

function objects(file: string): K8sObject[] {
  return yamlDocs(join(DIR, file)) as K8sObject[];
}

const kustomization = yamlDoc<{ resources: string[]; namespace: string; images: { name: string }[] }>(
  join(DIR, 'kustomization.yaml'),
);
const applied = kustomization.resources.flatMap(objects);
const all = [...applied, ...objects('secret.example.yaml')];
const find = (kind: string, name: string): K8sObject => {
  const o = applied.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
};

/** apiVersion → the kubernetes-models module that holds its classes. */
async function modelClass(apiVersion: string, kind: string) {
  const mod = (await import(/* @vite-ignore */ `kubernetes-models/${apiVersion}`)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const cls = mod[kind];
  if (!cls) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return cls;
}

const podSpec = (o: K8sObject): PodSpec =>
  (o as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const container = (spec: PodSpec, name: string): Container => {
  const c = spec.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
};

describe('kubernetes manifests', () => {
  it('lists every manifest in the kustomization (except the example secrets), each file existing', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort(),
    );
  });

  it('validates every object against its Kubernetes schema', async () => {
    expect(all.length).toBeGreaterThanOrEqual(12);
    for (const o of all) {
      const Model = await modelClass(o.apiVersion, o.kind);
      expect(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
  });

  it('rejects what the schemas forbid (the validator is really applied)', async () => {
    const Deployment = await modelClass('apps/v1', 'Deployment');
    const edge = structuredClone(find('Deployment', 'cachetail-edge')) as unknown as {
      spec: { replicas: unknown };
    };
    edge.spec.replicas = 'two';
    expect(() => new Deployment(edge).validate()).toThrow(/replicas must be integer/);
  });

  it('runs the tailer as a sidecar of the replica: state volume, probes, resources, non-root', () => {
    const sts = find('StatefulSet', 'mariadb-replica') as K8sObject & {
      spec: { volumeClaimTemplates: { metadata: { name: string } }[] };
    };
    const spec = podSpec(sts);
    expect(spec.containers.map((c) => c.name)).toEqual(['mariadb', 'cachetail-tailer']);
    const tailer = container(spec, 'cachetail-tailer');
    expect(tailer.image).toBe('cachetail');
    expect(tailer.args).toEqual(['tail', '--config', '/etc/cachetail/tailer.json']);
    const port = tailer.ports?.find((p) => p.name === 'tailer-status');
    expect(port?.containerPort).toBe(9464);
    expect(tailer.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'tailer-status' });
    expect(tailer.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'tailer-status' });
    expect(tailer.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'tailer-status' });
    expect(tailer.resources?.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(tailer.resources?.limits?.memory).toBe('512Mi');
    expect(tailer.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    // The checkpoint is on a volume claim of its own, so it outlives the pod.
    const state = tailer.volumeMounts?.find((m) => m.mountPath === '/var/lib/cachetail');
    expect(state?.name).toBe('cachetail-state');
    expect(sts.spec.volumeClaimTemplates.map((v) => v.metadata.name)).toContain('cachetail-state');
    // Room for the drain (shutdown.drainMs 10 s) before SIGKILL.
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(20);
  });

  it('gives the tailer its DB credentials only from a Secret, the password as a file', () => {
    const spec = podSpec(find('StatefulSet', 'mariadb-replica'));
    const tailer = container(spec, 'cachetail-tailer');
    const env = Object.fromEntries((tailer.env ?? []).map((e) => [e.name, e]));
    expect(env.CACHETAIL_SOURCE_USER?.valueFrom?.secretKeyRef).toEqual({ name: 'cachetail-db', key: 'user' });
    expect(env.CACHETAIL_SOURCE_PASSWORD).toBeUndefined();
    expect(env.CACHETAIL_SOURCE_PASSWORD_FILE?.value).toBe('/run/secrets/cachetail-db/password');
    const mount = tailer.volumeMounts?.find((m) => m.mountPath === '/run/secrets/cachetail-db');
    const volume = spec.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.secret?.secretName).toBe('cachetail-db');
    expect(volume?.secret?.items).toEqual([{ key: 'password', path: 'password' }]);
  });

  it('runs the edge as a Deployment behind a Service, with its cookie keys from a Secret file', () => {
    const dep = find('Deployment', 'cachetail-edge') as K8sObject & { spec: { replicas: number } };
    expect(dep.spec.replicas).toBeGreaterThanOrEqual(2);
    const spec = podSpec(dep);
    const edge = container(spec, 'edge');
    expect(edge.args).toEqual(['edge', '--config', '/etc/cachetail/edge.json']);
    expect(edge.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(edge.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(edge.resources?.requests?.memory).toBe('128Mi');
    expect(edge.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    const keysFile = edge.env?.find((e) => e.name === 'CACHETAIL_COOKIE_KEYS_FILE')?.value;
    expect(keysFile).toBe('/run/secrets/cachetail-cookie/keys');
    const mount = edge.volumeMounts?.find((m) => m.mountPath === '/run/secrets/cachetail-cookie');
    expect(spec.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName).toBe(
      'cachetail-cookie-keys',
    );

    const svc = find('Service', 'cachetail-edge') as K8sObject & {
      spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
    };
    expect(svc.spec.selector).toEqual({ 'app.kubernetes.io/name': 'cachetail-edge' });
    expect(svc.spec.ports.map((p) => p.targetPort)).toEqual(['http']);
    expect(find('PodDisruptionBudget', 'cachetail-edge')).toBeDefined();
  });

  it('never puts a secret value in a pod spec, and pins every image but our own (set by kustomize)', () => {
    for (const o of applied.filter((x) => x.kind === 'StatefulSet' || x.kind === 'Deployment')) {
      for (const c of podSpec(o).containers) {
        for (const e of c.env ?? []) {
          if (/PASSWORD$|KEYS$|SECRET/.test(e.name)) expect(e.value, `${c.name} ${e.name}`).toBeUndefined();
        }
        if (c.image === 'cachetail') continue;
        expect(c.image, c.name).toMatch(/:[\w.-]+$/);
        expect(c.image, c.name).not.toMatch(/:latest$/);
      }
    }
    expect(kustomization.images.map((i) => i.name)).toEqual(['cachetail']);
  });

  it('lets only the edge and monitoring reach the tailer status port', () => {
    const policy = find('NetworkPolicy', 'cachetail-tailer-status') as K8sObject & {
      spec: { ingress: { from?: unknown[]; ports: { port: number }[] }[] };
    };
    const status = policy.spec.ingress.find((r) => r.ports.some((p) => p.port === 9464));
    expect(status?.from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'cachetail-edge' } } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
  });
});
