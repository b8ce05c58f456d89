/** A status source the tests control, and the exact bodies the routes must answer with. */
import type { TailerState, TailerStatus } from '../../../src/observability/status.js';

export const WATERMARK = {
  gtid: '0-1-42',
  file: 'mariadb-bin.000003',
  position: 1234,
  updatedAt: 1_700_000_000_500,
};
export const FATAL = { code: 'POSITION_PURGED', message: 'binlog mariadb-bin.000001 was purged' };

/** A status as the tailer would report it in `state`: an error only where that state has one. */
export function statusIn(state: TailerState, extra: Partial<TailerStatus> = {}): TailerStatus {
  const reading = state === 'streaming' || state === 'paused';
  return {
    region: 'eu-west',
    state,
    ready: reading,
    watermark: state === 'idle' ? null : WATERMARK,
    lagSeconds: reading ? 0.5 : null,
    lastError: state === 'failed' ? FATAL : null,
    ...extra,
  };
}

/** A source whose current status the test swaps, recording how often it was read. */
export class FakeStatusSource {
  reads = 0;
  constructor(public current: TailerStatus) {}
  readonly read = (): TailerStatus => {
    this.reads++;
    return this.current;
  };
}
