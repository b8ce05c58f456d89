/**
 * deploy/prometheus/cachetail-alerts.yml and deploy/grafana/cachetail-dashboard.json, checked the way
 * promtool would (rule file structure, durations, every expression parsed) plus what promtool cannot
 * know: every metric, label and label value exists in cachetail's code, every metric is documented, and
 * every alert's runbook section exists in docs/production.md.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { family, knownMetrics, yamlDoc, type KnownMetric } from './helpers.js';
import { checkPromql, grafanaToPromql } from './promql.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}

const RULES = 'deploy/prometheus/cachetail-alerts.yml';
const DASHBOARD = 'deploy/grafana/cachetail-dashboard.json';
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

let known: Map<string, KnownMetric>;
beforeAll(async () => {
  known = await knownMetrics();
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    out.add(
      m[1]
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return out;
}

/** Where each metric family is documented. */
function docFor(metric: string): string | null {
  if (metric.startsWith('process_') || metric.startsWith('nodejs_') || metric === 'up') return null;
  if (metric.startsWith('cachetail_edge_')) return 'docs/edge.md';
  if (metric.startsWith('cachetail_consistency_')) return 'docs/consistency.md';
  return 'docs/observability.md';
}

function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

describe('alert rules', () => {
  const file = yamlDoc<RuleFile>(RULES);
  const rules = file.groups.flatMap((g) => g.rules);

  it('is a well-formed rule file: unique groups and alert names, durations, severities, summaries', () => {
    expect(Object.keys(file)).toEqual(['groups']);
    const groups = file.groups.map((g) => g.name);
    expect(new Set(groups).size).toBe(groups.length);
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(
        Object.keys(r).every((k) => ['alert', 'expr', 'for', 'labels', 'annotations'].includes(k)),
        r.alert,
      ).toBe(true);
      expect(r.alert, JSON.stringify(r)).toMatch(/^Cachetail[A-Z][A-Za-z0-9]+$/);
      expect(r.for ?? '0m', r.alert).toMatch(DURATION);
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });

  it('covers lag, gaps/fail-closed, delete errors, a growing journal and consistency below target', () => {
    const byMetric = (m: string) => rules.filter((r) => r.expr.includes(m)).map((r) => r.alert);
    expect(byMetric('cachetail_replication_lag_seconds').length).toBeGreaterThan(0);
    expect(byMetric('cachetail_gap_events_total').length).toBeGreaterThan(0);
    expect(byMetric('cachetail_state{state="failed"}')).toEqual(['CachetailFailClosed']);
    expect(byMetric('cachetail_delete_errors_total')).toEqual(['CachetailDeleteErrors']);
    expect(byMetric('result="journaled"')).toEqual(['CachetailJournalGrowing']);
    expect(byMetric('cachetail_consistency_checks_total')).toEqual([
      'CachetailConsistencyBelowTarget',
      'CachetailStaleAfter10s',
    ]);
  });

  it('parses every expression, and every metric, label and value in it exists in cachetail', () => {
    for (const r of rules) {
      const { problems, metrics } = checkPromql(r.expr, known);
      expect(problems, `${r.alert}: ${r.expr}`).toEqual([]);
      expect(metrics.size, r.alert).toBeGreaterThan(0);
    }
  });

  it('uses in its annotations only labels the expression keeps', () => {
    const aggregation =
      /\b(sum|min|max|avg|count|group|stddev|stdvar|topk|bottomk|quantile)\s*(by|without)?\s*\(/;
    for (const r of rules) {
      for (const text of Object.values(r.annotations ?? {})) {
        for (const [, label] of text.matchAll(/\$labels\.(\w+)/g)) {
          // An aggregation keeps only its by() labels; a bare selector keeps them all.
          if (!aggregation.test(r.expr)) continue;
          expect(r.expr, `${r.alert} uses $labels.${label}`).toMatch(new RegExp(`by \\([^)]*\\b${label}\\b`));
        }
      }
    }
  });

  it('documents every metric it uses', () => {
    const used = new Set(
      rules.flatMap((r) => [...checkPromql(r.expr, known).metrics]).map((m) => family(m, known)),
    );
    for (const metric of used) {
      const doc = docFor(metric);
      if (doc === null) continue;
      const text = readIfExists(doc);
      // The sampler's page is its owner's to write; until it exists the metric is only checked in code.
      if (text === null && doc === 'docs/consistency.md') continue;
      expect(text, `${doc} for ${metric}`).not.toBeNull();
      // `name` or `name{labels}` in code font.
      expect(new RegExp(`\`${metric}[\`{]`).test(text!), `${metric} in ${doc}`).toBe(true);
    }
  });

  it('points every alert at its runbook section in docs/production.md', () => {
    const headings = anchors(readFileSync('docs/production.md', 'utf8'));
    for (const r of rules) {
      const runbook = r.annotations?.runbook ?? '';
      expect(runbook, r.alert).toMatch(/^docs\/production\.md#[a-z0-9-]+$/);
      expect(headings.has(runbook.split('#')[1]), `${runbook} (${r.alert})`).toBe(true);
    }
  });
});

describe('Grafana dashboard', () => {
  interface Panel {
    id: number;
    title: string;
    type: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource: { type: string; uid: string };
    targets: { refId: string; expr: string; datasource: { uid: string } }[];
  }
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Panel[];
    templating: { list: { name: string; type: string }[] };
  };

  it('has an uid, a datasource variable, unique panel ids and no overlapping panels', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toContainEqual([
      'datasource',
      'datasource',
    ]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('queries only metrics, labels and values cachetail has, through the templated datasource', () => {
    for (const p of dashboard.panels) {
      expect(p.datasource.uid, p.title).toBe('${datasource}');
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(t.datasource.uid).toBe('${datasource}');
        const { problems } = checkPromql(grafanaToPromql(t.expr), known);
        expect(problems, `${p.title} ${t.refId}: ${t.expr}`).toEqual([]);
      }
    }
  });
});
