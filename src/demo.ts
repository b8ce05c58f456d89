/**
 * `npm start` (`cachetail demo`): the local two-region demo. Checks the system packages, starts the whole
 * stack (src/demo/stack.ts), plays the Jason → Monkey scenario in the terminal, prints where to look,
 * and keeps running until Ctrl-C (or exits at once with --once), then cleans up everything.
 *
 * The only place in the demo that prints, handles signals and decides the exit code.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ScenarioStep } from './dashboard/index.js';
import { startDemoOrExplain } from './demo/start.js';
import { formatStep, whereToLook } from './demo/print.js';

const say = (msg: string): void => void process.stdout.write(`${msg}\n`);

const USAGE = `usage: cachetail demo [--once] [--no-kafka]

  --once      play the scenario, then stop and exit (0 when the replica region ends up serving "Monkey")
  --no-kafka  do not start Kafka (it is started in the background when Java and its jars are available)
`;

export async function runDemo(args: readonly string[] = []): Promise<number> {
  let values: { once?: boolean; 'no-kafka'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        once: { type: 'boolean' },
        'no-kafka': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const once = values.once === true;

  // Listen from the start: a Ctrl-C during start-up then waits for a clean stop instead of leaving
  // servers behind; a second one only says that cleanup is still going.
  let stopRequested = false;
  let wake: (() => void) | null = null;
  const onSignal = (): void => {
    if (stopRequested) {
      say('Still stopping; the cluster is being cleaned up…');
      return;
    }
    stopRequested = true;
    say('\nStopping…');
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    say(
      'Starting the local two-region demo (MariaDB primary + replica, memcached per region, tailer, edge, apps)…',
    );
    const repoRoot = fileURLToPath(new URL('..', import.meta.url));
    const stack = await startDemoOrExplain({ kafka: !once && values['no-kafka'] !== true, repoRoot, say });
    if (stack === null) return 1;
    let ok = false;
    try {
      if (stopRequested) return 130;
      say('\n── The Jason → Monkey scenario ──');
      const run = await stack.scenario.play((step: ScenarioStep) => say(formatStep(step)));
      ok = run.state === 'done' && run.finalName === 'Monkey';
      if (run.state === 'failed') say(`The scenario failed: ${run.error}`);
      say(whereToLook(stack));
      if (!once && !stopRequested) {
        if (stack.kafka) {
          void stack.kafka.then((k) =>
            say(
              k.ok
                ? `Kafka: publishing invalidations to cache-invalidations on ${k.brokers.join(', ')}`
                : `Kafka: not started (${k.reason})`,
            ),
          );
        }
        say('Press Ctrl-C to stop and clean up.');
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (stopRequested) resolve();
        });
      }
    } finally {
      if (!stopRequested) say('Stopping…');
      await stack.stop();
      say('Stopped; all servers ended and their files removed.');
    }
    return ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
