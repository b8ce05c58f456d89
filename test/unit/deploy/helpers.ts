/**
 * Shared by the deploy/ tests: reading the files, the set of metrics cachetail really registers (with
 * their types and the label values they pre-create), and the config loaders' environment names.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { edgeEnvPaths } from '../../../src/config/edge.js';
import { envName } from '../../../src/config/load.js';
import { tailerEnvPaths } from '../../../src/config/tailer.js';
import { createEdgeMetrics } from '../../../src/edge/metrics.js';
import { collectProcessMetrics, createTailerMetrics } from '../../../src/observability/metrics.js';
import { createConsistencySampler } from '../../../src/sampler/index.js';

export const DEPLOY = 'deploy';

/** Every file under deploy/, relative to the repo root, sorted. */
export function deployFiles(dir = DEPLOY): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...deployFiles(path));
    else out.push(relative('.', path));
  }
  return out.sort();
}

/** All YAML documents of a file; throws with the file name on any parse error or warning. */
export function yamlDocs(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { prettyErrors: true });
  return docs.map((doc) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${path}: ${problems.map((e) => e.message).join('; ')}`);
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  });
}

export function yamlDoc<T>(path: string): T {
  const docs = yamlDocs(path);
  if (docs.length !== 1) throw new Error(`${path}: expected one YAML document, found ${docs.length}`);
  return docs[0] as T;
}

export const TAILER_ENV = new Set(tailerEnvPaths.map(([path]) => envName(path)));
export const EDGE_ENV = new Set(edgeEnvPaths.map(([path]) => envName(path)));

export interface KnownMetric {
  type: string;
  /** Label name → the values pre-created at start (empty: open set, e.g. configured servers). */
  labels: Map<string, Set<string>>;
}

/**
 * The metrics cachetail registers (tailer, edge, consistency sampler with its default delays, process),
 * by series name: a histogram contributes `<name>_bucket` (with `le`), `_sum` and `_count`.
 */
export async function knownMetrics(): Promise<Map<string, KnownMetric>> {
  const registry = new Registry();
  createTailerMetrics(registry, { servers: ['10.0.0.1:11211'] });
  createEdgeMetrics(registry, 'eu-west', 'us-east');
  collectProcessMetrics(registry);
  const sampler = createConsistencySampler({ registry, check: () => Promise.resolve('consistent') });
  sampler.stop();
  const out = new Map<string, KnownMetric>();
  for (const m of await registry.getMetricsAsJSON()) {
    const labels = new Map<string, Set<string>>();
    for (const v of m.values as { labels: Record<string, string | number> }[]) {
      for (const [k, value] of Object.entries(v.labels)) {
        if (!labels.has(k)) labels.set(k, new Set());
        labels.get(k)!.add(String(value));
      }
    }
    const type = String(m.type);
    if (type === 'histogram') {
      const plain = new Map([...labels].filter(([k]) => k !== 'le'));
      out.set(`${m.name}_bucket`, {
        type: 'counter',
        labels: new Map([...plain, ['le', new Set<string>()]]),
      });
      out.set(`${m.name}_sum`, { type: 'counter', labels: plain });
      out.set(`${m.name}_count`, { type: 'counter', labels: plain });
    } else {
      out.set(m.name, { type, labels });
    }
  }
  return out;
}

/** The metric family a series belongs to (strips the histogram suffixes). */
export function family(series: string, known: Map<string, KnownMetric>): string {
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  return m && known.has(`${m[1]}_bucket`) ? m[1] : series;
}
