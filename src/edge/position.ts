/**
 * Has the local region caught up with a write? The write's GTID (one GTID or a set, as the app sent it)
 * is compared with the watermark of every local tailer.
 *
 * Several tailers (one per shard or per replica) follow different servers, so each part of the write's
 * GTID — a MariaDB domain, a MySQL source UUID (and tag) — is checked only against the tailers whose
 * watermark knows that part: a shard's tailer cannot vouch for another shard's domain. The write is
 * reached when every part has at least one such tailer and every such tailer has reached it. A part no
 * local tailer knows is never reached (the request stays pinned until the window ends): the edge cannot
 * tell, and not telling is the safe answer.
 */
import { GtidState } from '../binlog/index.js';
import type { TailerWatermark } from './types.js';

export function writeReached(write: GtidState, watermarks: readonly TailerWatermark[]): boolean {
  const parts = splitParts(write);
  if (parts.length === 0) return true;
  return parts.every((part) => {
    const matching = watermarks.filter((w) => knowsPart(w.gtid, part));
    return matching.length > 0 && matching.every((w) => w.gtid.covers(part.state));
  });
}

interface Part {
  readonly flavor: 'mysql' | 'mariadb';
  /** MariaDB domain id, or MySQL `uuid` / `uuid:tag`. */
  readonly id: string;
  readonly state: GtidState;
}

function splitParts(write: GtidState): Part[] {
  const mysql = write.flavor === 'mysql' ? write.mysqlSet : undefined;
  if (mysql !== undefined) {
    return mysql.map((e) => ({
      flavor: 'mysql',
      id: sidId(e.uuid, e.tag),
      state: GtidState.fromMysqlSet([e]),
    }));
  }
  const mariadb = write.flavor === 'mariadb' ? write.mariadbState : undefined;
  if (mariadb !== undefined) {
    return mariadb.map((e) => ({
      flavor: 'mariadb',
      id: String(e.domainId),
      state: GtidState.fromMariadbState([e]),
    }));
  }
  return [];
}

function knowsPart(watermark: GtidState, part: Part): boolean {
  if (watermark.flavor !== part.flavor) return false;
  if (part.flavor === 'mysql')
    return (watermark.mysqlSet ?? []).some((e) => sidId(e.uuid, e.tag) === part.id);
  return (watermark.mariadbState ?? []).some((e) => String(e.domainId) === part.id);
}

function sidId(uuid: string, tag: string | undefined): string {
  return tag === undefined ? uuid : `${uuid}:${tag}`;
}
