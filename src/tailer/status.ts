/** The tailer's state as the status server's `/status` contract (src/observability/status.ts). */
import type { TailerStatus } from '../observability/status.js';
import type { Tailer } from './tailer.js';

export function tailerStatus(t: Tailer, region: string, checkpointPath: string | null): TailerStatus {
  const ack = t.acknowledged;
  const read = t.readPosition;
  const err = t.lastError;
  const state = t.state === 'streaming' && t.readingPaused ? 'paused' : t.state;
  return {
    region,
    state,
    ready: (state === 'streaming' || state === 'paused') && !t.gap,
    watermark:
      ack && ack.file !== ''
        ? {
            gtid: ack.gtid?.toString() ?? '',
            file: ack.file,
            position: ack.nextPosition,
            updatedAt: t.acknowledgedAt,
          }
        : null,
    lagSeconds: t.lag.seconds(),
    lastError: err ? { code: err.code, message: err.message } : null,
    position: read
      ? { file: read.file, position: read.nextPosition, gtid: read.gtid?.toString() ?? null }
      : null,
    pendingTransactions: t.pendingTransactions,
    readingPaused: t.readingPaused,
    stats: { ...t.stats },
    checkpoint: checkpointPath ? { path: checkpointPath, writtenAt: t.checkpointWrittenAt } : null,
    refused: t.refused,
    gap:
      t.gap && err
        ? {
            policy: 'fail-closed',
            code: err.code,
            message: err.message,
            detectedAt: t.gapDetectedAt ?? Date.now(),
          }
        : null,
    startedAt: t.startedAt,
  };
}
