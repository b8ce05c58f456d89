/**
 * Starting the demo the way a newcomer needs it: missing system packages reported once, with the one
 * command that installs them, before anything starts; a start-up failure explained in a sentence (with
 * where the logs are) instead of a stack trace.
 */
import { DevclusterError } from '../devcluster/index.js';
import { errorMessage } from '../errors.js';
import { kafkaUnavailable, startDemoKafka } from './kafka.js';
import { missingPackages, missingPackagesMessage } from './packages.js';
import { startDemo, type DemoOptions, type DemoStack } from './stack.js';

export interface StartOptions {
  kafka: boolean;
  repoRoot: string;
  say: (msg: string) => void;
  ports?: DemoOptions['ports'];
}

/** The running stack, or null after printing why it could not start. */
export async function startDemoOrExplain(opts: StartOptions): Promise<DemoStack | null> {
  const { say } = opts;
  const missing = missingPackages();
  if (missing) {
    say(`\n${missingPackagesMessage(missing)}`);
    return null;
  }
  let kafka: DemoOptions['kafka'];
  if (opts.kafka) {
    const why = kafkaUnavailable(opts.repoRoot);
    if (why) say(`  Kafka: skipped — ${why}`);
    else kafka = { start: (config, log, info) => startDemoKafka(info, config, log) };
  }
  try {
    return await startDemo({
      say,
      kafka,
      ports: opts.ports,
      logLevel: process.env.CACHETAIL_LOG_LEVEL ?? 'info',
    });
  } catch (err) {
    if (err instanceof DevclusterError && err.code === 'BINARY_MISSING') {
      // The up-front check covers the usual binaries; this is whatever else turned out to be missing.
      say(`\nA program the demo needs is missing: ${err.message}\nInstall it, then run npm start again.`);
      return null;
    }
    say(`\nThe demo could not start: ${errorMessage(err)}`);
    if (err instanceof DevclusterError) {
      say("Set CACHETAIL_KEEP_DEVCLUSTER=1 to keep the servers' data directories and logs for a look.");
    }
    return null;
  }
}
