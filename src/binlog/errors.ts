/**
 * Every failure of the decoder is a `BinlogDecodeError` with a stable `code`. None is retryable: the
 * same bytes decode the same way, so a retry of the decode can never help (a reconnect that re-reads the
 * event from the server is the caller's decision, not the decoder's).
 */
import { CachetailError } from '../errors.js';

export type BinlogDecodeErrorCode =
  /** The file does not start with fe 62 69 6e. */
  | 'BAD_MAGIC'
  /** Fewer bytes than a header, or than the header's event_size, are available. */
  | 'TRUNCATED'
  /** event_size is impossible (< 19, or smaller than its checksum) or disagrees with the bytes given. */
  | 'BAD_EVENT_LENGTH'
  /** The CRC32 stored in the event differs from the one computed over it. */
  | 'CHECKSUM_MISMATCH'
  /** A length or count inside the event body points beyond the body. */
  | 'MALFORMED_EVENT'
  /** A binlog version other than 4, an unknown checksum algorithm or compression method. */
  | 'UNSUPPORTED';

export interface BinlogErrorContext {
  /** Binlog file name, when the decoder knows it (option or ROTATE). */
  file?: string | undefined;
  /** Offset of the start of the event in the file, when the caller supplied it. */
  position?: number | undefined;
  /** Event type code, when the header could be read. */
  typeCode?: number | undefined;
}

export class BinlogDecodeError extends CachetailError {
  declare readonly code: BinlogDecodeErrorCode;
  declare readonly retryable: false;
  readonly file: string | undefined;
  readonly position: number | undefined;
  readonly typeCode: number | undefined;
  /** The message without the file/position suffix. */
  readonly detail: string;

  constructor(code: BinlogDecodeErrorCode, detail: string, ctx: BinlogErrorContext = {}) {
    super(code, `${code}: ${detail}${describeContext(ctx)}`);
    this.name = 'BinlogDecodeError';
    this.detail = detail;
    this.file = ctx.file;
    this.position = ctx.position;
    this.typeCode = ctx.typeCode;
  }

  /** The same error with more context (file/position are only known to the caller of a body decoder). */
  withContext(ctx: BinlogErrorContext): BinlogDecodeError {
    return new BinlogDecodeError(this.code, this.detail, {
      file: this.file ?? ctx.file,
      position: this.position ?? ctx.position,
      typeCode: this.typeCode ?? ctx.typeCode,
    });
  }
}

function describeContext(ctx: BinlogErrorContext): string {
  const parts: string[] = [];
  if (ctx.typeCode !== undefined) parts.push(`event type ${ctx.typeCode}`);
  if (ctx.file !== undefined) parts.push(`file ${ctx.file}`);
  if (ctx.position !== undefined) parts.push(`position ${ctx.position}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
