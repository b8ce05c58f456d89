/**
 * The /status contract between the tailer (which serves it, src/observability/status.ts) and the edge
 * router (which reads every local tailer's, src/edge/tailer-status.ts): these fields, exactly, declared
 * once. The tailer adds optional extras (docs/observability.md); a reader allows unknown fields (a
 * newer tailer may add some) and treats a missing or mistyped contract field as an unhealthy tailer.
 */
import { z } from 'zod';

/** The GTID watermark of acknowledged invalidations: every key of every transaction up to it is gone. */
export const watermarkSchema = z.object({
  /** GTID state after the acknowledged transaction ('' when the server assigns no GTIDs). */
  gtid: z.string(),
  /** Binlog file and the position just after its commit event. */
  file: z.string(),
  position: z.number(),
  /** When the sink acknowledged it, ms since the epoch. */
  updatedAt: z.number(),
});
export type Watermark = z.infer<typeof watermarkSchema>;

export const statusErrorSchema = z.object({
  /** A stable code (CachetailError.code, docs/errors.md), e.g. 'BINLOG_UNAVAILABLE'. */
  code: z.string(),
  /** For an operator; must not contain secrets (it is served as is). */
  message: z.string(),
});
export type StatusError = z.infer<typeof statusErrorSchema>;

export const statusContractSchema = z.object({
  region: z.string(),
  // A string, not an enum: a newer tailer may add states; readers count only the known-good ones.
  state: z.string(),
  ready: z.boolean(),
  watermark: watermarkSchema.nullable(),
  /** Seconds behind the primary; null before anything was read. */
  lagSeconds: z.number().nullable(),
  lastError: statusErrorSchema.nullable(),
});
/** The contract fields of a /status body. */
export type StatusContract = z.infer<typeof statusContractSchema>;
