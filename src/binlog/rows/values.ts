/**
 * What a decoded row holds. One JS type per column type, chosen so that every stored value round-trips
 * exactly (no float for DECIMAL, no Date for a zero date or a TIME of 838 hours):
 *
 * | column type                                  | value                                                |
 * |----------------------------------------------|------------------------------------------------------|
 * | SQL NULL                                     | `null`                                               |
 * | not in this image (MINIMAL/partial image)    | `undefined`                                          |
 * | TINYINT, SMALLINT, MEDIUMINT, INT            | `number` (unsigned per SIGNEDNESS metadata or option) |
 * | BIGINT                                       | `bigint`                                             |
 * | FLOAT, DOUBLE                                | `number`                                             |
 * | YEAR                                         | `number` (1901..2155, 0 for the zero year)           |
 * | DECIMAL                                      | `string`, exact (`'-12345.6789'`)                    |
 * | DATE / DATETIME / TIME                       | `string` as MySQL prints it (`'2024-02-29 13:14:15.123'`) |
 * | TIMESTAMP                                    | `string`, UTC (`'2024-02-29 13:14:15.789'`; 0 is `'0000-00-00 00:00:00'`) |
 * | CHAR, VARCHAR, BINARY, BLOB, TEXT            | `StringValue` (bytes + text); MariaDB JSON is LONGTEXT |
 * | ENUM                                         | member name, or the 1-based index without metadata   |
 * | SET                                          | member names, or the bitmap as `bigint`              |
 * | BIT                                          | `bigint`                                             |
 * | MySQL JSON                                   | `{ kind: 'json', value }`                            |
 * | MySQL JSON partial update (PARTIAL_UPDATE_ROWS) | `{ kind: 'json_diff', diffs }`                    |
 * | GEOMETRY, VECTOR, anything else              | `{ kind: 'raw', type, raw }`                          |
 *
 * Buffers (`StringValue.bytes`, `raw`) are subarrays of the event: copy them to keep them after the
 * event buffer is reused.
 */

/** MySQL JSON as a JS value. Integers beyond 2^53 are bigints; opaque values are strings (see json-binary.ts). */
export type JsonValue =
  null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

export interface JsonColumnValue {
  readonly kind: 'json';
  readonly value: JsonValue;
}

export type JsonDiffOperation = 'replace' | 'insert' | 'remove';

/** One change of a partial JSON update: apply in order to the column's before value. */
export interface JsonDiff {
  readonly operation: JsonDiffOperation;
  /** MySQL JSON path, e.g. `$.a[1]`. */
  readonly path: string;
  /** Absent for 'remove'. */
  readonly value?: JsonValue;
}

export interface JsonDiffColumnValue {
  readonly kind: 'json_diff';
  readonly diffs: readonly JsonDiff[];
}

/** A type this decoder does not interpret (GEOMETRY, VECTOR, ...): its bytes without the length prefix. */
export interface RawColumnValue {
  readonly kind: 'raw';
  /** Column type code from the TABLE_MAP (the real type for CHAR-encoded types). */
  readonly type: number;
  readonly raw: Buffer;
}

/** How `StringValue.text` decodes the bytes, from the column's collation when the TABLE_MAP carries it. */
export type TextEncoding = 'utf8' | 'latin1';

/**
 * A character or binary string. `text` is decoded on first use only, so a row with a large BLOB costs
 * nothing until someone looks at it. `binary` is true when the column's collation is `binary` (63):
 * BINARY/VARBINARY/BLOB; without charset metadata it is false and `text` is UTF-8.
 */
export class StringValue {
  readonly kind = 'string' as const;
  private decoded: string | undefined;

  constructor(
    readonly bytes: Buffer,
    readonly binary = false,
    readonly encoding: TextEncoding = 'utf8',
  ) {}

  get text(): string {
    return (this.decoded ??= this.bytes.toString(this.encoding));
  }

  toString(): string {
    return this.text;
  }

  toJSON(): string {
    return this.text;
  }
}

export type ColumnValue =
  | null
  | undefined
  | number
  | bigint
  | string
  | readonly string[]
  | StringValue
  | JsonColumnValue
  | JsonDiffColumnValue
  | RawColumnValue;

/** One image: one entry per column of the table, `undefined` for columns the image leaves out. */
export type Row = ColumnValue[];

/** WRITE: `after`; DELETE: `before`; UPDATE: both. */
export interface RowChange {
  before?: Row;
  after?: Row;
}
