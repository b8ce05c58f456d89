/**
 * `npm start` (`cachetail demo`): the local two-region demo. Checks the system packages, starts the whole
 * stack (src/demo/stack.ts), plays the Jason → Monkey scenario in the terminal, prints where to look,
 * and keeps running until Ctrl-C (or exits at once with --once), then cleans up everything.
 *
 * The only place in the demo that prints, handles signals and decides the exit code.
 *
 * Stopping, however the demo was started. `npm start` runs `exec node --import tsx src/cli.ts demo`: npm
 * forwards SIGINT and SIGTERM to its child, and `exec` makes that child this process — without it the
 * child is `sh -c`, which dies of a SIGTERM without passing it on (orphaning everything) and sits out a
 * SIGINT. Started as `tsx src/cli.ts demo`, tsx relays the two signals to this process as well (and
 * SIGKILLs it when it does not confirm within 30 ms). So a signal to any process of the demo arrives
 * here, often more than once: a terminal's Ctrl-C reaches npm and this process, and npm passes it on.
 *  - The first SIGINT/SIGTERM starts an orderly stop (servers SIGTERMed by PID, files removed). One
 *    within ECHO_MS of it is the same request passed along and changes nothing.
 *  - A later one, or an orderly stop still running after ORDERLY_STOP_MS, stops at once: the process
 *    exits, and the cluster's exit handler SIGKILLs every server by PID and removes its directory, the
 *    demo's files with it (src/devcluster/cluster.ts).
 *  - When this process dies with no JavaScript left to run (SIGKILL), the cluster's reaper does the
 *    same (src/devcluster/reaper.ts). The servers run in their own session, so a Ctrl-C meant for the
 *    demo never reaches them directly; they are only ever stopped by PID.
 */
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs } from './commands/usage.js';
import type { ScenarioStep } from './dashboard/index.js';
import { startDemoOrExplain } from './demo/start.js';
import { formatStep, whereToLook } from './demo/print.js';

const say = (msg: string): void => void process.stdout.write(`${msg}\n`);

const USAGE = `usage: cachetail demo [--once] [--no-kafka]

  --once      play the scenario, then stop and exit (0 when the replica region ends up serving
              "Monkey")
  --no-kafka  do not start Kafka (it is started in the background when Java and its jars are
              available)
  -h, --help  this text
`;

/** A signal this soon after the first is that same request passed along again (by npm or tsx). */
export const ECHO_MS = 1_000;
/** An orderly stop that has not finished this long after the signal is forced (issue 17 asks for 30 s). */
export const ORDERLY_STOP_MS = 20_000;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface StopRequests {
  /** Whether a stop has been asked for. */
  readonly requested: boolean;
  /** Resolves at the first request. */
  readonly first: Promise<void>;
  /** The orderly stop has finished: no more forcing, the default signal handling is back. */
  dispose(): void;
}

/**
 * Listens for SIGINT/SIGTERM from the start: a signal during start-up then stops what has started
 * instead of leaving servers behind. `exit` ends the process at once (the forced stop).
 */
export function listenForStop(d: {
  say: (msg: string) => void;
  exit: (code: number) => void;
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}): StopRequests {
  const signals = d.signals ?? process;
  let firstAt: number | null = null;
  let deadline: NodeJS.Timeout | undefined;
  let markFirst!: () => void;
  const first = new Promise<void>((resolve) => (markFirst = resolve));
  const exitCode = (sig: NodeJS.Signals) => 128 + constants.signals[sig];

  const onSignal = (sig: NodeJS.Signals): void => {
    if (firstAt === null) {
      firstAt = Date.now();
      d.say('\nStopping… (Ctrl-C again to stop at once)');
      deadline = setTimeout(() => {
        d.say(`The orderly stop took more than ${ORDERLY_STOP_MS / 1000} s; stopping at once.`);
        d.exit(exitCode(sig));
      }, ORDERLY_STOP_MS);
      deadline.unref();
      markFirst();
      return;
    }
    if (Date.now() - firstAt < ECHO_MS) return;
    d.say('Stopping at once: every server is killed and its files removed.');
    d.exit(exitCode(sig));
  };
  for (const sig of STOP_SIGNALS) signals.on(sig, onSignal);
  return {
    get requested() {
      return firstAt !== null;
    },
    first,
    dispose: () => {
      clearTimeout(deadline);
      for (const sig of STOP_SIGNALS) signals.off(sig, onSignal);
    },
  };
}

export async function runDemo(args: readonly string[] = []): Promise<number> {
  // A USAGE error goes up to the dispatcher, which names this help (exit 2).
  const parsed = parseCommandArgs({
    args: [...args],
    options: { once: { type: 'boolean' }, 'no-kafka': { type: 'boolean' } },
  });
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { values } = parsed;
  const once = values.once === true;

  const stop = listenForStop({ say, exit: (code) => process.exit(code) });
  try {
    say(
      'Starting the local two-region demo (MariaDB primary + replica, memcached per region, tailer, edge, apps)…',
    );
    const repoRoot = fileURLToPath(new URL('..', import.meta.url));
    const stack = await startDemoOrExplain({ kafka: !once && values['no-kafka'] !== true, repoRoot, say });
    if (stack === null) return 1;
    let ok = false;
    try {
      if (stop.requested) return 130;
      say('\n── The Jason → Monkey scenario ──');
      const run = await stack.scenario.play((step: ScenarioStep) => say(formatStep(step)));
      ok = run.state === 'done' && run.finalName === 'Monkey';
      if (run.state === 'failed') say(`The scenario failed: ${run.error}`);
      say(whereToLook(stack));
      if (!once && !stop.requested) {
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
        await stop.first;
      }
    } finally {
      if (!stop.requested) say('Stopping…');
      await stack.stop();
      say('Stopped; all servers ended and their files removed.');
    }
    return ok ? 0 : 1;
  } finally {
    stop.dispose();
  }
}
