/** Builds a TABLE_MAP and a rows event from column definitions and JS values, and decodes them back. */
import {
  buildFormatDescription,
  buildRows,
  buildTableMap,
  encodeOptionalMetadata,
  encodeRowImage,
  presentBitmap,
  tableMapColumns,
  type CellInput,
  type ColumnDef,
} from '../../helpers/binlog/index.js';
import { MYSQL_8_0_POST_HEADER_LENGTHS } from '../../../src/binlog/events/context.js';
import {
  BinlogDecoder,
  type ColumnValue,
  type DecodeRowsOptions,
  type RowChange,
  type RowsEvent,
  type TableMapOptionalMetadata,
} from '../../../src/binlog/index.js';

export interface ImageInput {
  before?: CellInput[];
  after?: CellInput[];
}

export interface BuildOptions {
  flavor?: 'mysql' | 'mariadb';
  version?: 1 | 2;
  compressed?: boolean;
  partial?: boolean;
  metadata?: TableMapOptionalMetadata;
  /** Bytes appended to (positive) or cut from (negative) the end of the row data. */
  tamper?: number;
  decode?: DecodeRowsOptions;
  /** Raw row data instead of the encoded images (the bitmaps still come from the first image). */
  rows?: Buffer;
}

export function decoderFor(flavor: 'mysql' | 'mariadb' = 'mysql'): BinlogDecoder {
  const d = new BinlogDecoder({ file: 'test-bin.000001' });
  d.decode(
    flavor === 'mysql'
      ? buildFormatDescription({ serverVersion: '8.0.45', postHeaderLengths: MYSQL_8_0_POST_HEADER_LENGTHS })
      : buildFormatDescription(),
  );
  return d;
}

/** The rows event (decoded header) and its decoder, with the TABLE_MAP already seen. */
export function buildEvent(
  cols: ColumnDef[],
  images: ImageInput[],
  o: BuildOptions = {},
): { decoder: BinlogDecoder; event: RowsEvent } {
  const decoder = decoderFor(o.flavor);
  decoder.decode(
    buildTableMap({
      tableId: 42,
      db: 'db',
      table: 't',
      ...tableMapColumns(cols),
      optionalMetadataRaw: o.metadata ? encodeOptionalMetadata(o.metadata) : undefined,
    }),
  );
  const first = images[0] ?? {};
  const kind = first.before && first.after ? 'update_rows' : first.after ? 'write_rows' : 'delete_rows';
  let rows =
    o.rows ??
    Buffer.concat(
      images.flatMap((img) => [
        ...(img.before ? [encodeRowImage(cols, img.before)] : []),
        ...(o.partial ? [Buffer.of(0)] : []),
        ...(img.after ? [encodeRowImage(cols, img.after)] : []),
      ]),
    );
  if (o.tamper !== undefined) {
    rows =
      o.tamper >= 0
        ? Buffer.concat([rows, Buffer.alloc(o.tamper)])
        : rows.subarray(0, rows.length + o.tamper);
  }
  const bitmap = (v: CellInput[] | undefined): Buffer | undefined => (v ? presentBitmap(v) : undefined);
  const event = decoder.decode(
    buildRows({
      kind,
      version: o.partial ? 2 : (o.version ?? 1),
      compressed: o.compressed,
      partial: o.partial,
      tableId: 42,
      columnCount: cols.length,
      columnsPresent: bitmap(kind === 'write_rows' ? first.after : first.before),
      columnsPresentAfter: kind === 'update_rows' ? bitmap(first.after) : undefined,
      rows,
    }),
  ) as RowsEvent;
  return { decoder, event };
}

export function decodeBuilt(cols: ColumnDef[], images: ImageInput[], o: BuildOptions = {}): RowChange[] {
  const { decoder, event } = buildEvent(cols, images, o);
  return decoder.decodeRows(event, o.decode);
}

/** One column, one inserted value, decoded back. */
export function roundTrip(col: ColumnDef, value: CellInput, o: BuildOptions = {}): ColumnValue {
  return decodeBuilt([col], [{ after: [value] }], o)[0].after![0];
}
