// Entry point for using the devcluster by hand and from CI:
//   tsx src/devcluster/cli.ts fetch-kafka            download the Kafka jars into .cache/ (CI pre-fetch)
//   tsx src/devcluster/cli.ts start [--kafka]         start a cluster, print its ClusterInfo, stop on Ctrl-C
//   tsx src/devcluster/cli.ts ensure-kafka <baseDir>  start (or find) the Kafka broker of a running cluster
import { ensureKafka, fetchKafkaJars, startCluster } from './index.js';

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
    case 'start': {
      const cluster = await startCluster({ log, handleSignals: false });
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
      throw new Error('usage: cli.ts fetch-kafka | start [--kafka] | ensure-kafka <baseDir>');
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
