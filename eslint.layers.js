// @ts-check
/**
 * The layering of src/: for each folder, the folders it may import (besides itself, src/errors.ts and
 * src/errors/, which every folder may use). Bottom to top: pure decoding and grammar; shared contracts;
 * observability; I/O adapters (replication, sinks); the library apps embed (app); config and the parts
 * built from it (sampler, tailer, edge, consumer, dashboard); the composition root (wiring); the
 * entry points (commands, demo). eslint.config.js turns this into import-x/no-restricted-paths zones;
 * test/unit/lint/layering.test.ts shows a wrong import failing.
 *
 * `tailer` is allowed the Sink port (sinks/sink.ts) only: the concrete sinks are built in wiring/.
 */

/** @type {Record<string, readonly string[]>} */
export const MAY_IMPORT = {
  gen: [],
  binlog: [],
  annotate: [],
  contracts: [],
  observability: ['annotate', 'binlog', 'contracts'],
  replication: ['binlog', 'contracts', 'observability'],
  sinks: ['annotate', 'contracts', 'gen', 'observability'],
  app: ['annotate', 'sinks'],
  sampler: ['app', 'binlog', 'contracts', 'observability', 'replication', 'sinks'],
  config: ['contracts', 'sampler', 'sinks'],
  tailer: ['annotate', 'binlog', 'contracts', 'observability', 'replication', 'sinks'],
  edge: ['binlog', 'config', 'contracts', 'observability'],
  consumer: ['config', 'contracts', 'gen', 'observability', 'sinks'],
  dashboard: ['contracts', 'observability', 'sinks'],
  // Dev tooling: starts real servers for tests and the demo; nothing in production imports it.
  devcluster: ['binlog'],
  wiring: ['config', 'contracts', 'dashboard', 'observability', 'replication', 'sampler', 'sinks', 'tailer'],
  demo: [
    'annotate',
    'app',
    'binlog',
    'config',
    'contracts',
    'dashboard',
    'devcluster',
    'edge',
    'gen',
    'observability',
    'replication',
    'sampler',
    'sinks',
    'tailer',
    'wiring',
  ],
  commands: [
    'annotate',
    'app',
    'binlog',
    'config',
    'consumer',
    'contracts',
    'dashboard',
    'demo',
    'edge',
    'gen',
    'observability',
    'replication',
    'sampler',
    'sinks',
    'tailer',
    'wiring',
  ],
};

/** Files inside a forbidden folder that a folder may still import: the tailer's Sink port. */
const EXCEPT = { tailer: { sinks: ['./sink.ts'] } };

/** import-x/no-restricted-paths zones: for each folder, every other folder it may not import. */
export function layeringZones() {
  const folders = Object.keys(MAY_IMPORT);
  const zones = [];
  for (const target of folders) {
    for (const from of folders) {
      if (from === target || (MAY_IMPORT[target].includes(from) && !EXCEPT[target]?.[from])) continue;
      const except = EXCEPT[target]?.[from];
      zones.push({
        target: `./src/${target}`,
        from: `./src/${from}`,
        ...(except ? { except } : {}),
        message: `layering: src/${target} may not import src/${from}${except ? ` (only ${except.join(', ')})` : ''} — see eslint.layers.js`,
      });
    }
    // Test support (the binlog builders) never ships.
    zones.push({ target: `./src/${target}`, from: './test', message: 'layering: src/ may not import test/' });
  }
  return zones;
}
