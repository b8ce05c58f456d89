/**
 * The original scenario, played on the running demo through its real parts: jsobel renames himself
 * "Jason" → "Monkey" through the edge while replication to the replica region is stopped; another reader
 * there caches the old name from the lagging replica; replication resumes and the replica region's
 * tailer deletes the key from the replica's own binlog; the next reader gets "Monkey".
 *
 * Each step is published as it happens (ScenarioStep), for the terminal (`npm start`) and the
 * dashboard's button alike. One run at a time: the steps stop the replica's SQL thread.
 */
import type memjs from 'memjs';
import type { Pool } from 'mysql2/promise';
import type { ScenarioControl, ScenarioRun, ScenarioStep, StepValue } from '../dashboard/index.js';
import type { RecentKey, RecentKeys } from '../dashboard/index.js';
import type { ClusterControl } from '../devcluster/index.js';
import { CachetailError, errorMessage } from '../errors.js';
import { PROFILE_TTL_SECONDS, renameUser, userKey } from './app.js';
import { cachedName } from './regions.js';

export const SCENARIO_LOGIN = 'jsobel';
export const OLD_NAME = 'Jason';
export const NEW_NAME = 'Monkey';

export interface ScenarioDeps {
  cluster: Pick<ClusterControl, 'stopReplicaSql' | 'startReplicaSql' | 'waitForReplicaCatchUp'>;
  /** The edge proxy's base URL (it runs in the replica region). */
  edgeUrl: string;
  primary: Pool;
  caches: { master: memjs.Client; replica: memjs.Client };
  regions: { master: string; replica: string };
  recentKeys: RecentKeys;
  /** Pause between steps so a person can follow them on the dashboard (0 in the terminal). */
  paceMs?: number;
  /** How long to wait for replication and for the tailer's delete (default 30 s). */
  timeoutMs?: number;
}

/** The demo app's JSON answers (UserRead, the rename result, or an error), as far as the steps use them. */
interface AppBody {
  name?: string;
  source?: string;
  gtid?: string;
  error?: string;
}

interface EdgeAnswer {
  status: number;
  region: string;
  body: AppBody;
  cookie: string | null;
}

export class Scenario implements ScenarioControl {
  private run: ScenarioRun | null = null;
  private runs = 0;

  constructor(private readonly deps: ScenarioDeps) {}

  current(): ScenarioRun | null {
    return this.run;
  }

  start(): { run: ScenarioRun; started: boolean } {
    if (this.run?.state === 'running') return { run: this.run, started: false };
    const run = this.newRun();
    void this.execute(run).catch(() => undefined);
    return { run, started: true };
  }

  /** Plays one run to the end; `onStep` sees each step as it is published. Rejects if one is running. */
  async play(onStep?: (step: ScenarioStep) => void): Promise<ScenarioRun> {
    if (this.run?.state === 'running')
      throw new CachetailError('DEMO_SCENARIO_FAILED', 'the scenario is already running');
    const run = this.newRun();
    await this.execute(run, onStep);
    return run;
  }

  private newRun(): ScenarioRun {
    this.run = {
      id: ++this.runs,
      state: 'running',
      startedAt: Date.now(),
      finishedAt: null,
      steps: [],
      error: null,
      finalName: null,
    };
    return this.run;
  }

  private async execute(run: ScenarioRun, onStep?: (step: ScenarioStep) => void): Promise<void> {
    const publish = async (id: string, title: string, detail: string, values: StepValue[]) => {
      const step: ScenarioStep = { n: run.steps.length + 1, id, title, detail, values, at: Date.now() };
      run.steps.push(step);
      onStep?.(step);
      if (this.deps.paceMs) await sleep(this.deps.paceMs);
    };
    try {
      run.finalName = await this.steps(publish);
      run.state = 'done';
    } catch (err) {
      run.state = 'failed';
      run.error = errorMessage(err);
    } finally {
      run.finishedAt = Date.now();
    }
  }

  private async steps(
    publish: (id: string, title: string, detail: string, values: StepValue[]) => Promise<void>,
  ): Promise<string> {
    const d = this.deps;
    const { master: M, replica: R } = d.regions;
    const key = userKey(SCENARIO_LOGIN);
    const timeoutMs = d.timeoutMs ?? 30_000;

    // 1. A clean start: the old name everywhere, nothing cached, and the tailer's delete for that reset
    // already done (a late one would otherwise clear the stale value before the story shows it).
    const reset = await renameUser(d.primary, d.caches.master, SCENARIO_LOGIN, OLD_NAME);
    await d.cluster.waitForReplicaCatchUp(timeoutMs);
    await this.deletedByTailer(key, reset.gtid, timeoutMs);
    await Promise.all([d.caches.master.delete(key), d.caches.replica.delete(key)]);
    await publish(
      'reset',
      `Before: ${SCENARIO_LOGIN} is called “${OLD_NAME}” in both regions`,
      'Both databases agree and neither cache holds the profile.',
      [
        { label: 'primary', value: OLD_NAME },
        { label: 'replica', value: OLD_NAME },
        { label: `${M} cache`, value: '(empty)' },
        { label: `${R} cache`, value: '(empty)' },
      ],
    );

    await d.cluster.stopReplicaSql();
    let resumed = false;
    try {
      await publish(
        'lag',
        `Replication to ${R} lags`,
        `The replica's SQL thread is stopped: it keeps fetching the primary's binlog but applies nothing.`,
        [{ label: `${R} replica`, value: 'SQL thread stopped' }],
      );

      const write = await this.edge(`/users/${SCENARIO_LOGIN}/rename`, {
        method: 'POST',
        body: { name: NEW_NAME },
      });
      const gtid = write.body.gtid ?? '';
      if (write.status !== 200 || !gtid)
        throw new CachetailError(
          'DEMO_SCENARIO_FAILED',
          `the rename answered ${write.status}: ${JSON.stringify(write.body)}`,
        );
      await publish(
        'write',
        `${SCENARIO_LOGIN} renames himself “${NEW_NAME}”: POST through the edge → ${write.region}`,
        `A write always goes to the master region. withInvalidation adds /* MEMCACHE_DIRTY ${key} ts=… */ to the transaction, commits on the primary, then deletes the key from ${M}'s own cache; the edge sets a signed recent-write cookie carrying the GTID.`,
        [
          { label: 'routed to', value: write.region },
          { label: 'GTID', value: gtid },
          { label: 'primary', value: NEW_NAME, tone: 'fresh' },
          { label: `${M} cache`, value: '(deleted by the writer)' },
        ],
      );

      const own = await this.read(write.cookie);
      await publish(
        'own-read',
        `${SCENARIO_LOGIN} reloads his profile: his cookie pins him to ${own.region} → “${own.name}”`,
        `${R}'s tailer has not passed GTID ${gtid} yet, so the edge sends the writer to the master region: he sees his own write.`,
        [
          { label: 'served by', value: own.region },
          {
            label: 'name',
            value: own.name,
            tone: own.name === NEW_NAME ? 'fresh' : 'stale',
          },
        ],
      );

      const stale = await this.read(null);
      await publish(
        'stale-read',
        `Another reader in ${R} (no cookie) → served by ${stale.region}: cache miss, the lagging replica says “${stale.name}”`,
        `getOrLoad found nothing cached, read the replica and filled ${R}'s cache with what it read.`,
        [
          { label: 'served by', value: stale.region },
          { label: 'source', value: stale.source },
          { label: 'name', value: stale.name, tone: 'stale' },
          {
            label: `${R} cache now`,
            value: (await this.cached(d.caches.replica, key)) ?? '(empty)',
            tone: 'stale',
          },
        ],
      );

      const trapped = await this.read(null);
      await publish(
        'trapped',
        `The stale “${trapped.name}” is trapped in ${R}'s cache`,
        `Every reader in ${R} now gets it from the cache (${trapped.source}). Without cachetail it would stay there for the TTL: ${PROFILE_TTL_SECONDS / 60} minutes. A delete sent by the writer at commit time would not help: it would arrive before the replica has the new row, and the next miss would cache the old one again.`,
        [
          { label: 'source', value: trapped.source },
          { label: 'name', value: trapped.name, tone: 'stale' },
          { label: 'TTL', value: `${PROFILE_TTL_SECONDS} s` },
        ],
      );

      await d.cluster.startReplicaSql();
      resumed = true;
      await d.cluster.waitForReplicaCatchUp(timeoutMs);
      await publish(
        'replicate',
        `Replication resumes: the replica commits the rename`,
        `The replica applies GTID ${gtid} and writes it, with the statement text and its annotation, to its own binlog (log_slave_updates).`,
        [{ label: `${R} replica`, value: NEW_NAME, tone: 'fresh' }],
      );

      const deleted = await this.deletedByTailer(key, gtid, timeoutMs);
      const from = deleted.writerTimeMs ?? deleted.commitTimeMs;
      await publish(
        'delete',
        `${R}'s tailer read the commit from the replica's binlog and deleted ${key}`,
        `Only after the replica committed: a reader that misses now can only read the new row.`,
        [
          { label: 'deleted', value: key, tone: 'fresh' },
          { label: 'GTID', value: deleted.gtid },
          {
            label: 'write → delete (incl. the lag)',
            value: `${Math.max(0, deleted.acknowledgedAt - from)} ms`,
          },
          { label: `${R} cache now`, value: (await this.cached(d.caches.replica, key)) ?? '(empty)' },
        ],
      );

      const fresh = await this.read(null);
      const name = fresh.name;
      await publish(
        'fresh-read',
        `The next reader in ${R}: cache miss → replica → “${name}”`,
        name === NEW_NAME
          ? 'The stale value lived only until the replica caught up.'
          : 'The stale value is still there!',
        [
          { label: 'served by', value: fresh.region },
          { label: 'source', value: fresh.source },
          { label: 'name', value: name, tone: name === NEW_NAME ? 'fresh' : 'stale' },
        ],
      );
      return name;
    } finally {
      if (!resumed) await d.cluster.startReplicaSql().catch(() => undefined);
    }
  }

  /** GET the profile through the edge as JSON; with the writer's cookie or as somebody else. */
  private async read(cookie: string | null): Promise<{ region: string; name: string; source: string }> {
    const answer = await this.edge(`/users/${SCENARIO_LOGIN}`, { cookie });
    const { name, source } = answer.body;
    if (answer.status !== 200 || name === undefined || source === undefined) {
      throw new CachetailError(
        'DEMO_SCENARIO_FAILED',
        `reading the profile answered ${answer.status}: ${JSON.stringify(answer.body)}`,
      );
    }
    return { region: answer.region, name, source };
  }

  private async edge(
    path: string,
    opts: { method?: 'GET' | 'POST'; body?: unknown; cookie?: string | null },
  ): Promise<EdgeAnswer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.deps.edgeUrl), {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      redirect: 'manual',
    });
    const body = (await res.json().catch(() => ({}))) as AppBody;
    const set = res.headers.getSetCookie()[0];
    return {
      status: res.status,
      region: res.headers.get('x-cachetail-region') ?? '(unknown)',
      body,
      // name=value only: the attributes are for the browser.
      cookie: set ? set.split(';')[0] : null,
    };
  }

  private async cached(cache: memjs.Client, key: string): Promise<string | null> {
    return cachedName((await cache.get(key)).value);
  }

  /** Waits until the tailer acknowledged `key` for the transaction `gtid`. */
  private async deletedByTailer(key: string, gtid: string, timeoutMs: number): Promise<RecentKey> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.deps.recentKeys.list().find((k) => k.key === key && k.gtid === gtid);
      if (hit) return hit;
      await sleep(25);
    }
    throw new CachetailError(
      'DEMO_SCENARIO_FAILED',
      `the tailer did not delete ${key} (GTID ${gtid}) within ${timeoutMs / 1000} s`,
    );
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
