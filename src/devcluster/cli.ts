// Entry point for using the devcluster by hand and from CI:
//   tsx src/devcluster/cli.ts fetch-kafka            download the Kafka jars into .cache/ (CI pre-fetch)
//   tsx src/devcluster/cli.ts start [--server <line>] [--kafka]
//                                                    start a cluster of that server line (default
//                                                    mariadb-10.11), print its ClusterInfo, stop on Ctrl-C
//   tsx src/devcluster/cli.ts roots [line…|all]       build (once) the server roots of those lines
//   tsx src/devcluster/cli.ts ensure-kafka <baseDir>  start (or find) the Kafka broker of a running cluster
import {
  DEFAULT_LINE,
  ensureKafka,
  ensureRoot,
  fetchKafkaJars,
  parseServerLine,
  rootState,
  SERVER_LINES,
  startCluster,
} from './index.js';

const USAGE =
  'usage: cli.ts fetch-kafka | start [--server <line>] [--kafka] | roots [<line>…|all] | ' +
  `ensure-kafka <baseDir>\n  lines: ${SERVER_LINES.join(', ')}`;

const log = (msg: string) => console.error(msg);

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'fetch-kafka': {
      console.log(await fetchKafkaJars(log));
      return;
    }
    case 'ensure-kafka': {
      const baseDir = rest[0];
      if (!baseDir) throw new Error('usage: ensure-kafka <baseDir>');
      console.log(JSON.stringify(await ensureKafka({ baseDir }, { log })));
      return;
    }
    case 'roots': {
      const lines = rest.length === 0 || rest.includes('all') ? [...SERVER_LINES] : rest.map(parseServerLine);
      for (const line of lines) {
        const path = await ensureRoot(line, log);
        console.log(`${line}: ${path ?? 'host packages'} (${rootState(line).kind})`);
      }
      return;
    }
    case 'start': {
      const at = rest.indexOf('--server');
      if (at >= 0 && rest[at + 1] === undefined) throw new Error(`--server needs a line\n${USAGE}`);
      const unknown = rest.filter(
        (a, i) => a !== '--kafka' && a !== '--server' && rest[i - 1] !== '--server',
      );
      if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}\n${USAGE}`);
      const line = at >= 0 ? parseServerLine(rest[at + 1]) : DEFAULT_LINE;
      const cluster = await startCluster({ log, line, handleSignals: false });
      const kafka = rest.includes('--kafka') ? await ensureKafka(cluster.info, { log }) : undefined;
      console.log(JSON.stringify({ ...cluster.info, kafka }, null, 2));
      log('devcluster: running; Ctrl-C to stop');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await cluster.stop();
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
