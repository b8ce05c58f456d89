/**
 * Child process of the decoder benchmark: decodes one binlog file the way the tailer does — every event
 * through a BinlogDecoder, TRANSACTION_PAYLOAD contents through payloadEvents, everything through the
 * TransactionAssembler with the real annotation extractor — and prints one JSON line of figures.
 *
 *   node .cache/bench/dist/bench/lib/decode-child.js <file> [--whole]   (built by decoder.bench.ts)
 *   tsx bench/lib/decode-child.ts <file> [--whole]
 *
 * Default: the file is read in 64 KiB chunks through EventSplitter (memory independent of file size).
 * --whole reads it into one Buffer and uses readBinlogFile, for comparison. --stage split|decode|assemble
 * stops after that step (assemble: with an extractor that finds no keys), to show where the time goes.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { extractAnnotations } from '../../src/annotate/index.js';
import { BinlogDecoder, readBinlogFile, type BinlogEvent } from '../../src/binlog/index.js';
import type { SplitEvent } from '../../src/binlog/splitter.js';
import { TransactionAssembler, type KeyExtractor } from '../../src/tailer/transactions.js';
import { readEventsChunked } from './read-events.js';

export type Stage = 'split' | 'decode' | 'assemble' | 'full';

export interface DecodeFigures {
  mode: 'chunked' | 'whole';
  stage: Stage;
  bytes: number;
  events: number;
  transactions: number;
  keys: number;
  /** Reading + decoding + assembling, from the first read to the last event (no process start-up). */
  decodeMs: number;
  /** CPU time (user + system, all threads: GC included) over the same span. */
  decodeCpuMs: number;
  /** RSS (bytes) when a third, two thirds and all of the file had been decoded. */
  rssAtThirds: number[];
  maxRss: number;
}

/**
 * What the tailer's extractor (annotationExtractor in src/tailer/extract.ts) computes, without its
 * logger: importing create.ts would load mysql2, pino and the memcached sink into a process that only
 * decodes, inflating start-up and RSS. The workload has no rejected keys, so no log line is lost.
 */
const extract: KeyExtractor = (sql, lex) => {
  const result = extractAnnotations(sql, lex);
  let writerTimeMs: number | undefined;
  for (const a of result.annotations) {
    if (a.ts !== undefined && (writerTimeMs === undefined || a.ts < writerTimeMs)) writerTimeMs = a.ts;
  }
  return { keys: result.keys, writerTimeMs };
};

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: decode-child.ts <binlog file> [--whole]');
  const whole = process.argv.includes('--whole');
  const stageArg = process.argv[process.argv.indexOf('--stage') + 1];
  const stage: Stage = process.argv.includes('--stage') ? (stageArg as Stage) : 'full';
  const size = statSync(file).size;
  const name = path.basename(file);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const decoder = new BinlogDecoder({ file: name });
  const source: Iterable<SplitEvent | { position: number; event: BinlogEvent }> = whole
    ? readBinlogFile(readFileSync(file), { decoder, file: name })
    : readEventsChunked(file);
  const assembler = new TransactionAssembler(stage === 'assemble' ? () => ({ keys: [] }) : extract);
  assembler.reset(name);
  const figures: DecodeFigures = {
    mode: whole ? 'whole' : 'chunked',
    stage,
    bytes: size,
    events: 0,
    transactions: 0,
    keys: 0,
    decodeMs: 0,
    decodeCpuMs: 0,
    rssAtThirds: [],
    maxRss: 0,
  };
  const push = (ev: BinlogEvent): void => {
    figures.events++;
    if (stage === 'decode') return;
    const txn = assembler.push(ev);
    if (txn) {
      figures.transactions++;
      figures.keys += txn.keys.length;
    }
  };
  let nextSample = size / 3;
  for (const item of source) {
    if (stage === 'split') {
      figures.events++;
      continue;
    }
    const ev = 'event' in item ? item.event : decoder.decode(item.bytes, item.position);
    if (ev.kind === 'transaction_payload') {
      figures.events++;
      for (const inner of decoder.payloadEvents(ev)) {
        push({ ...inner, header: { ...inner.header, nextPosition: ev.header.nextPosition } });
      }
    } else {
      push(ev);
    }
    if (item.position >= nextSample) {
      figures.rssAtThirds.push(process.memoryUsage.rss());
      nextSample += size / 3;
    }
  }
  figures.decodeMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  figures.decodeCpuMs = (used.user + used.system) / 1000;
  while (figures.rssAtThirds.length < 3) figures.rssAtThirds.push(process.memoryUsage.rss());
  figures.maxRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main();
