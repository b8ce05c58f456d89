/** What a body decoder needs to know about the file it is in (taken from the file's FDE). */
export interface BodyContext {
  /** Post-header length of an event type, from the current FDE (or a MariaDB 10.11 default). */
  postHeaderLength(typeCode: number): number;
}

/**
 * Post-header lengths written by MariaDB 10.11 (types 1..171), as in the FDE of
 * generated-mariadb-10.11.19/primary-m1-bin.000002. Used before any FDE was seen and by the builder.
 */
export const MARIADB_10_11_POST_HEADER_LENGTHS: Uint8Array = (() => {
  const a = new Uint8Array(171);
  const set = (type: number, len: number): void => {
    a[type - 1] = len;
  };
  // prettier-ignore
  const pairs: [number, number][] = [
    [1, 56], [2, 13], [4, 8], [6, 18], [8, 4], [9, 4], [10, 4], [11, 4], [12, 18], [15, 228], [17, 4],
    [18, 26], [19, 8], [23, 8], [24, 8], [25, 8], [26, 2], [30, 10], [31, 10], [32, 10], [39, 10],
    [40, 10], [41, 10], [161, 4], [162, 19], [163, 4], [165, 13], [166, 8], [167, 8], [168, 8],
    [169, 10], [170, 10], [171, 10],
  ];
  for (const [t, l] of pairs) set(t, l);
  return a;
})();

/**
 * Post-header lengths written by MySQL 8.0 (types 1..41), as in the FDE of
 * percona-binlog-server/data_80045_gtid/binlog.000001.
 */
export const MYSQL_8_0_POST_HEADER_LENGTHS: Uint8Array = Uint8Array.from([
  0, 13, 0, 8, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 98, 0, 4, 26, 8, 0, 0, 0, 8, 8, 8, 2, 0, 0, 0, 10, 10, 10, 42,
  42, 0, 18, 52, 0, 10, 40, 0,
]);

export const DEFAULT_BODY_CONTEXT: BodyContext = {
  postHeaderLength: (typeCode) => MARIADB_10_11_POST_HEADER_LENGTHS[typeCode - 1] ?? 0,
};
