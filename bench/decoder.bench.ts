/**
 * Decoder benchmark (issue #3): decode + annotation-key extraction over a >= 30 MB binlog of annotated
 * transactions, against the server's own decoder on the same file in the same run: mariadb-binlog on
 * MariaDB-written files, and MySQL 9.7's mysqlbinlog (from the line's server root, through chroot) on
 * a MySQL-written one. Target: >= 2x mariadb-binlog -vv's event rate, with peak memory that does not
 * grow with the file (shown on a file 3x larger).
 *
 * Every program runs as its own process, interleaved run by run (so machine load hits all of them alike),
 * BENCH_RUNS times (default 5); medians are reported. Rates are given per CPU second (user + system, all
 * threads — robust on a shared, loaded machine) and per wall-clock second. cachetail runs compiled to
 * plain JS (bench/build.tsconfig.json), as it ships. The binlogs come from a real MariaDB and a real
 * MySQL 9.7 (see lib/workload.ts) and are cached under .cache/bench/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodeFigures, Stage } from './lib/decode-child.js';
import { binlogTool, visibleInRoot, type BinlogTool } from '../src/devcluster/binlog-tool.js';
import { DEFAULT_LINE, ensureRoot, rootState, type ServerLine } from '../src/devcluster/index.js';
import { measure, median, peakRssSource, type Run } from './lib/measure.js';
import {
  cachedBinlogPath,
  generateBinlogs,
  readCached,
  type BinlogTarget,
  type GeneratedBinlog,
} from './lib/workload.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, '.cache', 'bench');
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));
/** MariaDB 10.11 (the host's): the 2x target file, and one 3x larger for flat memory. */
const TARGETS: BinlogTarget[] = [
  { name: 'annotated-32mib.binlog', bytes: 32 * 2 ** 20 },
  { name: 'annotated-96mib.binlog', bytes: 96 * 2 ** 20 },
];
const MYSQL_LINE: ServerLine = 'mysql-9.7';
/** The same workload written by MySQL 9.7, against its mysqlbinlog. */
const MYSQL_TARGET: BinlogTarget = {
  name: 'mysql-9.7-annotated-32mib.binlog',
  bytes: 32 * 2 ** 20,
  line: MYSQL_LINE,
};

interface Program {
  label: string;
  run: (file: string) => Promise<{ run: Run; figures?: DecodeFigures }>;
}

/** The child compiled to plain JS by buildChild(): cachetail runs as it ships, without tsx. */
const child = path.join(cacheDir, 'dist', 'bench', 'lib', 'decode-child.js');
const ours =
  (whole: boolean): Program['run'] =>
  async (file) => {
    const run = await measure(process.execPath, [child, file, ...(whole ? ['--whole'] : [])], {
      captureStdout: true,
    });
    return { run, figures: JSON.parse(run.stdout) as DecodeFigures };
  };
/** The server's own decoder on the file (inside its root when the line has one). */
const peer =
  (tool: BinlogTool, args: string[]): Program['run'] =>
  async (file) => {
    const { cmd, args: argv } = tool.command(args, file);
    return { run: await measure(cmd, argv) };
  };

/** cachetail two ways, then the server's tool with -vv (rows decoded as comments) and without. */
function programs(tool: BinlogTool): Program[] {
  return [
    { label: 'cachetail: decode + keys (EventSplitter, 64 KiB reads)', run: ours(false) },
    { label: 'cachetail: decode + keys (whole file, readBinlogFile)', run: ours(true) },
    { label: `${tool.name} -vv`, run: peer(tool, ['-vv']) },
    { label: tool.name, run: peer(tool, []) },
  ];
}

interface Result {
  label: string;
  /** Medians over the runs; for cachetail also the in-process decode span (no start-up). */
  wallMs: number;
  cpuMs: number;
  decodeMs?: number;
  decodeCpuMs?: number;
  maxRss: number;
  figures?: DecodeFigures;
}

const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const secs = (ms: number | undefined): string => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);

async function benchFile(
  gen: GeneratedBinlog,
  file: string,
  runs: number,
  progs: Program[],
): Promise<Result[]> {
  const samples = progs.map(() => [] as { run: Run; figures?: DecodeFigures }[]);
  for (let i = 0; i < runs; i++) {
    for (const [p, program] of progs.entries()) samples[p].push(await program.run(file));
    process.stderr.write(`\r  ${path.basename(file)}: run ${i + 1}/${runs}`);
  }
  process.stderr.write('\n');
  return progs.map((program, p) => {
    const s = samples[p];
    const figures = s[s.length - 1].figures;
    // The decode is only worth timing if it found every key the workload wrote.
    if (figures && (figures.keys !== gen.keys || figures.transactions !== gen.transactions)) {
      throw new Error(
        `${program.label}: found ${figures.keys} keys in ${figures.transactions} transactions, ` +
          `the workload wrote ${gen.keys} keys in ${gen.transactions}`,
      );
    }
    return {
      label: program.label,
      wallMs: median(s.map((x) => x.run.wallMs)),
      cpuMs: median(s.map((x) => x.run.cpuMs)),
      decodeMs: figures ? median(s.map((x) => x.figures!.decodeMs)) : undefined,
      decodeCpuMs: figures ? median(s.map((x) => x.figures!.decodeCpuMs)) : undefined,
      maxRss: median(s.map((x) => x.run.maxRss)),
      figures,
    };
  });
}

function printFile(gen: GeneratedBinlog, results: Result[], runs: number): void {
  const events = results[0].figures!.events;
  const rate = (ms: number): string =>
    `${fmt(events / (ms / 1000))} ev/s, ${(gen.bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
  console.log(
    `\n### ${mib(gen.bytes)} MiB binlog: ${fmt(events)} events, ${fmt(gen.transactions)} transactions, ` +
      `${fmt(gen.keys)} keys (all found) — ${gen.line ?? DEFAULT_LINE} (${gen.serverVersion}), median of ${runs} runs\n`,
  );
  console.log(
    '| program | per CPU second (whole process) | per wall second (whole process) | CPU | wall | peak RSS |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.label} | ${rate(r.cpuMs)} | ${rate(r.wallMs)} | ${secs(r.cpuMs)} | ${secs(r.wallMs)} | ${mib(r.maxRss)} MiB |`,
    );
  }
  const [chunked] = results;
  console.log(
    `\ncachetail (chunked), decode loop alone (no process start-up): ${secs(chunked.decodeCpuMs)} CPU ` +
      `(${rate(chunked.decodeCpuMs!)}), ${secs(chunked.decodeMs)} wall`,
  );
  console.log('\n| cachetail (chunked) event rate ÷ peer | per CPU second | per wall second |');
  console.log('|---|---:|---:|');
  for (const peerResult of results.slice(2)) {
    console.log(
      `| vs ${peerResult.label} | ${(peerResult.cpuMs / chunked.cpuMs).toFixed(2)}x | ${(peerResult.wallMs / chunked.wallMs).toFixed(2)}x |`,
    );
  }
  const thirds = chunked.figures!.rssAtThirds.map((b) => `${mib(b)} MiB`).join(' / ');
  console.log(`\ncachetail (chunked) RSS after 1/3, 2/3, 3/3 of the file: ${thirds}`);
}

/** CPU time of the decode loop stopped after each step, on one file: where cachetail's time goes. */
async function stageBreakdown(file: string, runs: number): Promise<void> {
  const stages: [Stage, string][] = [
    ['split', 'read 64 KiB chunks + split into events (EventSplitter)'],
    ['decode', '+ decode every event (BinlogDecoder, CRC32 checks)'],
    ['assemble', '+ TransactionAssembler (extractor finding no keys)'],
    ['full', '+ annotation key extraction (src/annotate)'],
  ];
  const cpu: number[] = [];
  for (const [stage] of stages) {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await measure(process.execPath, [child, file, '--stage', stage], { captureStdout: true });
      samples.push((JSON.parse(run.stdout) as DecodeFigures).decodeCpuMs);
    }
    cpu.push(median(samples));
  }
  console.log(
    `\n### Where cachetail's decode-loop CPU time goes (${path.basename(file)}, median of ${runs})\n`,
  );
  console.log('| step | CPU, cumulative | added by the step |');
  console.log('|---|---:|---:|');
  stages.forEach(([, label], i) => {
    const added = cpu[i] - (i === 0 ? 0 : cpu[i - 1]);
    console.log(
      `| ${label} | ${secs(cpu[i])} | ${secs(added)} (${((100 * added) / cpu[cpu.length - 1]).toFixed(0)} %) |`,
    );
  });
}

/** Compiles the child to .cache/bench/dist (incremental: quick when nothing changed). */
function buildChild(): void {
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  execFileSync(tsc, ['-p', path.join(root, 'bench', 'build.tsconfig.json')], { stdio: 'inherit' });
  if (!existsSync(child)) throw new Error(`${child} was not built`);
}

/** Where the MySQL comparison cannot run on this machine (no root and none can be built), why. */
function mysqlLeftOut(): string | undefined {
  const state = rootState(MYSQL_LINE);
  return state.kind === 'unavailable' ? state.why : undefined;
}

async function main(): Promise<void> {
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const missing = TARGETS.filter((t) => !readCached(cacheDir, t));
  if (missing.length > 0) {
    log(`generating ${missing.map((t) => t.name).join(', ')} on a devcluster MariaDB (cached afterwards)`);
    await generateBinlogs(cacheDir, missing);
  }
  const leftOut = mysqlLeftOut();
  if (leftOut === undefined && !readCached(cacheDir, MYSQL_TARGET)) {
    log(`generating ${MYSQL_TARGET.name} on a devcluster ${MYSQL_LINE} (cached afterwards)`);
    await generateBinlogs(cacheDir, [MYSQL_TARGET], MYSQL_LINE);
  }
  buildChild();
  const mariadb = binlogTool(DEFAULT_LINE, null);
  const mysql = leftOut === undefined ? binlogTool(MYSQL_LINE, await ensureRoot(MYSQL_LINE, log)) : undefined;
  const version = (tool: BinlogTool): string => {
    const { cmd, args } = tool.command(['--version']);
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  };
  const cpus = os.cpus();
  console.log(
    `machine: ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, ${mib(os.totalmem())} MiB RAM, load average ` +
      `${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} at start; node ${process.version}; ${version(mariadb)}; ` +
      `${mysql ? `${version(mysql)} (chroot ${mysql.root})` : `no mysqlbinlog: ${leftOut}`}; ` +
      `peak RSS from ${peakRssSource()}`,
  );
  const PROGRAMS = programs(mariadb);
  const perFile: { gen: GeneratedBinlog; results: Result[] }[] = [];
  for (const [i, target] of TARGETS.entries()) {
    const gen = readCached(cacheDir, target)!;
    const runs = i === 0 ? RUNS : 3;
    const results = await benchFile(gen, cachedBinlogPath(cacheDir, target), runs, PROGRAMS);
    printFile(gen, results, runs);
    if (i === 0) await stageBreakdown(cachedBinlogPath(cacheDir, target), 3);
    perFile.push({ gen, results });
  }
  console.log('\n### Peak RSS against file size (flat memory)\n');
  console.log(`| program | ${perFile.map((f) => `${mib(f.gen.bytes)} MiB file`).join(' | ')} |`);
  console.log(`|---|${perFile.map(() => '---:').join('|')}|`);
  for (const [p, program] of PROGRAMS.entries()) {
    console.log(
      `| ${program.label} | ${perFile.map((f) => `${mib(f.results[p].maxRss)} MiB`).join(' | ')} |`,
    );
  }
  if (mysql) {
    // mysqlbinlog runs inside its root: the cached file is linked (or copied) there for the run.
    const gen = readCached(cacheDir, MYSQL_TARGET)!;
    const staged = visibleInRoot(cachedBinlogPath(cacheDir, MYSQL_TARGET), mysql.root);
    try {
      const results = await benchFile(gen, staged.path, RUNS, programs(mysql));
      printFile(gen, results, RUNS);
    } finally {
      staged.remove();
    }
  } else {
    console.log(`\n### ${MYSQL_LINE}: not measured — ${leftOut}`);
  }
  const load = os.loadavg()[0];
  console.log(`\nload average at the end: ${load.toFixed(1)} (${cpus.length} cores); files: ${cacheDir}`);
}

await main();
