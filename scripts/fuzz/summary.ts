/** The fuzz run's summary, and moving statistics between worker threads (Maps/Sets as plain arrays). */
import { eventTypeName } from '../../src/binlog/constants.js';
import type { CampaignStats } from './campaign.js';

export type SerializedStats = Omit<CampaignStats, 'outcomes' | 'ops' | 'bodyDecodedTypes' | 'rowErrors'> & {
  outcomes: [string, number][];
  rowErrors: [string, number][];
  ops: [string, number][];
  bodyDecodedTypes: number[];
};

export function serializeStats(s: CampaignStats): SerializedStats {
  return {
    ...s,
    outcomes: [...s.outcomes],
    ops: [...s.ops],
    bodyDecodedTypes: [...s.bodyDecodedTypes],
    rowErrors: [...s.rowErrors],
  };
}

export function mergeStats(parts: SerializedStats[]): CampaignStats {
  const out: CampaignStats = {
    seed: parts[0].seed,
    cases: 0,
    outcomes: new Map(),
    ops: new Map(),
    bodyDecodedTypes: new Set(),
    events: 0,
    keys: 0,
    rows: 0,
    rowErrors: new Map(),
    slowest: { ms: 0, index: -1, source: '' },
    largestAlloc: { bytes: 0, index: -1, source: '' },
    largestFootprintRatio: 0,
    failures: [],
    ms: 0,
  };
  for (const p of parts) {
    out.cases += p.cases;
    for (const [k, v] of p.outcomes) out.outcomes.set(k, (out.outcomes.get(k) ?? 0) + v);
    for (const [k, v] of p.ops) out.ops.set(k, (out.ops.get(k) ?? 0) + v);
    for (const t of p.bodyDecodedTypes) out.bodyDecodedTypes.add(t);
    out.events += p.events;
    out.keys += p.keys;
    out.rows += p.rows;
    for (const [k, v] of p.rowErrors) out.rowErrors.set(k, (out.rowErrors.get(k) ?? 0) + v);
    if (p.slowest.ms > out.slowest.ms) out.slowest = p.slowest;
    if (p.largestAlloc.bytes > out.largestAlloc.bytes) out.largestAlloc = p.largestAlloc;
    out.largestFootprintRatio = Math.max(out.largestFootprintRatio, p.largestFootprintRatio);
    out.failures.push(...p.failures);
  }
  out.failures.sort((a, b) => a.index - b.index);
  return out;
}

const MAX_HEX = 4096;

export function printSummary(s: CampaignStats): void {
  const pct = (n: number): string => `${((100 * n) / Math.max(1, s.cases)).toFixed(2)} %`;
  const lines: string[] = [];
  lines.push(
    '',
    `seed ${s.seed}: ${s.cases} cases in ${(s.ms / 1000).toFixed(1)} s (${Math.round(s.cases / (s.ms / 1000))} cases/s)`,
  );
  lines.push('outcomes:');
  for (const [k, v] of [...s.outcomes].sort((a, b) => b[1] - a[1]))
    lines.push(`  ${k.padEnd(34)} ${String(v).padStart(9)}  ${pct(v)}`);
  lines.push(
    `mutation operators: ${[...s.ops]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  const codes = [...s.bodyDecodedTypes].sort((a, b) => a - b);
  const known = codes.map(eventTypeName).filter((n) => !n.startsWith('TYPE_'));
  lines.push(
    `event types decoded after a mutation with the CRC recomputed: ${known.length} known (${known.join(' ')}) ` +
      `+ ${codes.length - known.length} unknown type codes (typed raw events)`,
  );
  lines.push(`events decoded: ${s.events}; annotation keys delivered by the assembler: ${s.keys}`);
  const rowErrors = [...s.rowErrors].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  lines.push(
    `row images decoded (decodeRows with the cached TABLE_MAP): ${s.rows} rows; typed errors: ${rowErrors}`,
  );
  lines.push(
    `slowest case: ${s.slowest.ms.toFixed(2)} ms (${s.seed}:${s.slowest.index}, ${s.slowest.source})`,
  );
  lines.push(
    `largest allocation during a case: ${(s.largestAlloc.bytes / 1024 / 1024).toFixed(2)} MiB ` +
      `(${s.seed}:${s.largestAlloc.index}, ${s.largestAlloc.source}); largest retained/input ratio of a decoded event: ` +
      `${s.largestFootprintRatio.toFixed(1)}`,
  );
  if (s.failures.length === 0) {
    lines.push(`failures: none`);
  } else {
    lines.push(`FAILURES: ${s.failures.length}`);
    for (const f of s.failures) {
      lines.push(
        `- case ${f.seed}:${f.index} from ${f.source} (ops ${f.ops.join(', ')}); replay: npm run fuzz -- --replay ${f.seed}:${f.index}`,
      );
      for (const p of f.problems) lines.push(`    ${p.split('\n').join('\n    ')}`);
      lines.push(
        `    input: ${f.hex.length > MAX_HEX ? `${f.hex.slice(0, MAX_HEX)}… (${f.hex.length / 2} bytes)` : f.hex}`,
      );
    }
  }
  console.log(lines.join('\n'));
}
