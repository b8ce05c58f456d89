/** Readiness, liveness and the /status body as pure functions of a status. */
import { describe, expect, it } from 'vitest';
import { tailerStatusSchema } from '../../../src/edge/tailer-status.js';
import { CachetailError } from '../../../src/errors.js';
import {
  TAILER_STATES,
  liveness,
  readiness,
  statusBody,
  statusError,
  type TailerStatus,
} from '../../../src/observability/status.js';
import { FATAL, WATERMARK, statusIn } from './fixtures.js';

const GAP = { policy: 'fail-closed', code: 'POSITION_PURGED', message: 'purged', detectedAt: 5 } as const;

describe('readiness', () => {
  it('is ready exactly in streaming and paused', () => {
    const got = TAILER_STATES.map((s) => [s, readiness(statusIn(s))]);
    expect(got).toEqual([
      ['idle', { ready: false, reason: 'starting', message: 'the tailer is idle' }],
      ['connecting', { ready: false, reason: 'starting', message: 'the tailer is connecting' }],
      ['streaming', { ready: true }],
      ['paused', { ready: true }],
      [
        'failed',
        { ready: false, reason: 'failed', message: 'POSITION_PURGED: binlog mariadb-bin.000001 was purged' },
      ],
      ['stopped', { ready: false, reason: 'stopped', message: 'the tailer is stopped' }],
    ]);
  });

  it('names the last error while reconnecting', () => {
    const s = statusIn('connecting', { lastError: { code: 'REPLICATION_DEAD', message: 'no heartbeat' } });
    expect(readiness(s)).toEqual({
      ready: false,
      reason: 'starting',
      message: 'the tailer is connecting (last error REPLICATION_DEAD: no heartbeat)',
    });
  });

  it('an unresolved gap makes it not ready whatever the state', () => {
    expect(readiness(statusIn('streaming', { gap: GAP }))).toEqual({
      ready: false,
      reason: 'gap',
      message: 'POSITION_PURGED: purged (policy fail-closed)',
    });
    expect(readiness(statusIn('streaming', { gap: { ...GAP, policy: 'flush' } }))).toMatchObject({
      ready: false,
      reason: 'gap',
    });
    expect(readiness(statusIn('streaming', { gap: null }))).toEqual({ ready: true });
  });

  it('applies the lag bound only when configured, and treats unknown lag as too much', () => {
    expect(readiness(statusIn('streaming', { lagSeconds: 999 }))).toEqual({ ready: true });
    expect(readiness(statusIn('streaming', { lagSeconds: 20 }), { maxLagSeconds: 20 })).toEqual({
      ready: true,
    });
    expect(readiness(statusIn('paused', { lagSeconds: 20.5 }), { maxLagSeconds: 20 })).toEqual({
      ready: false,
      reason: 'lagging',
      message: 'replication lag 20.5 s is above 20 s',
    });
    expect(readiness(statusIn('streaming', { lagSeconds: null }), { maxLagSeconds: 20 })).toEqual({
      ready: false,
      reason: 'lagging',
      message: 'replication lag is unknown',
    });
  });

  it("respects the source's own ready: false", () => {
    expect(readiness(statusIn('streaming', { ready: false }))).toEqual({
      ready: false,
      reason: 'not-ready',
      message: 'the tailer reports not ready (state streaming)',
    });
  });
});

describe('liveness', () => {
  it('fails only in failed, with the error', () => {
    const got = TAILER_STATES.map((s) => [s, liveness(statusIn(s))]);
    expect(got).toEqual([
      ['idle', { alive: true }],
      ['connecting', { alive: true }],
      ['streaming', { alive: true }],
      ['paused', { alive: true }],
      ['failed', { alive: false, error: FATAL }],
      ['stopped', { alive: true }],
    ]);
    expect(liveness(statusIn('failed', { lastError: null }))).toEqual({
      alive: false,
      error: { code: 'FAILED', message: 'the tailer failed' },
    });
  });

  it('stays alive when the failure is a gap a restart would meet again', () => {
    expect(liveness(statusIn('failed', { gap: GAP }))).toEqual({ alive: true });
  });

  it('stays alive when the setup was refused (a restart meets the same refusal), not ready with the fix', () => {
    const refusal = { code: 'PREFLIGHT_FAILED', message: 'log_bin is OFF on db:3306 … Fix: …' };
    const s = statusIn('failed', { refused: true, lastError: refusal });
    expect(liveness(s)).toEqual({ alive: true });
    expect(readiness(s)).toEqual({
      ready: false,
      reason: 'failed',
      message: 'PREFLIGHT_FAILED: log_bin is OFF on db:3306 … Fix: …',
    });
    expect(statusBody(s, readiness(s))).toMatchObject({ state: 'failed', ready: false, refused: true });
    expect(liveness(statusIn('failed', { refused: false }))).toEqual({ alive: false, error: FATAL });
  });
});

describe('statusBody', () => {
  it('serves the contract fields and the extras, nothing else', () => {
    const err = new CachetailError('REPLICATION_DEAD', 'no heartbeat', { retryable: true, cause: 'x' });
    const source = {
      ...statusIn('streaming'),
      lastError: err,
      watermark: { ...WATERMARK, password: 'hunter2' },
      position: { file: 'mariadb-bin.000003', position: 2000, gtid: '0-1-43', secret: 's' },
      pendingTransactions: 3,
      readingPaused: false,
      stats: { events: 10, transactions: 4, note: 'x' } as unknown as Record<string, number>,
      checkpoint: { path: '/var/lib/cachetail/checkpoint.json', writtenAt: 1_700_000_000_000 },
      gapPolicy: 'fail-closed',
      gap: null,
      startedAt: 1_699_999_000_000,
      config: { source: { password: 'hunter2' } },
    } as TailerStatus;
    const body = statusBody(source, readiness(source));
    expect(body).toEqual({
      region: 'eu-west',
      state: 'streaming',
      ready: true,
      watermark: WATERMARK,
      lagSeconds: 0.5,
      lastError: { code: 'REPLICATION_DEAD', message: 'no heartbeat' },
      position: { file: 'mariadb-bin.000003', position: 2000, gtid: '0-1-43' },
      pendingTransactions: 3,
      readingPaused: false,
      stats: { events: 10, transactions: 4 },
      checkpoint: { path: '/var/lib/cachetail/checkpoint.json', writtenAt: 1_700_000_000_000 },
      gapPolicy: 'fail-closed',
      gap: null,
      startedAt: 1_699_999_000_000,
    });
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  it('explains not-ready under its own name', () => {
    const s = statusIn('connecting');
    expect(statusBody(s, readiness(s))).toEqual({
      region: 'eu-west',
      state: 'connecting',
      ready: false,
      watermark: WATERMARK,
      lagSeconds: null,
      lastError: null,
      notReady: { reason: 'starting', message: 'the tailer is connecting' },
    });
  });
});

describe('statusError', () => {
  it('keeps code and message only', () => {
    expect(statusError(new CachetailError('CONFIG_INVALID', 'boom'))).toEqual({
      code: 'CONFIG_INVALID',
      message: 'boom',
    });
    expect(statusError(new Error('plain'))).toEqual({ code: 'ERROR', message: 'plain' });
    expect(statusError('text')).toEqual({ code: 'ERROR', message: 'text' });
  });
});

describe('the /status contract, declared once (src/contracts/status.ts)', () => {
  it('every body the tailer serves is what the edge parses: the contract fields, exactly', () => {
    for (const state of TAILER_STATES) {
      const status = statusIn(state, { gap: state === 'failed' ? GAP : null, pendingTransactions: 3 });
      const body = statusBody(status, readiness(status));
      const parsed = tailerStatusSchema.parse(body);
      expect(parsed).toEqual({
        region: 'eu-west',
        state,
        ready: state === 'streaming' || state === 'paused',
        watermark: state === 'idle' ? null : WATERMARK,
        lagSeconds: state === 'streaming' || state === 'paused' ? 0.5 : null,
        lastError: state === 'failed' ? FATAL : null,
      });
    }
  });

  it('a body missing a contract field is refused by the edge', () => {
    const { lagSeconds: _dropped, ...body } = statusBody(statusIn('streaming'), { ready: true });
    expect(tailerStatusSchema.safeParse(body).success).toBe(false);
  });
});
