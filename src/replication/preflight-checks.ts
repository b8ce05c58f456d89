/**
 * Checks of the tailed server's own settings (DESIGN.md §2: where comments survive). Each check is a
 * pure function of the gathered facts; its message names the setting, the server and what the value
 * means for invalidation, and a failing or warning check says how to fix it.
 */
import { replicaMonitorPrivilege, replicaStatusStatement } from './preflight-sql.js';
import type { PreflightCheck, PreflightFacts, PreflightOptions } from './preflight-types.js';

export type Check = (facts: PreflightFacts, opts: PreflightOptions) => PreflightCheck;

export function isOn(value: string | undefined): boolean {
  return value !== undefined && ['ON', '1', 'TRUE', 'YES'].includes(value.toUpperCase());
}

/** The name this server knows the re-logging setting by (MySQL 8.0.26+ says log_replica_updates). */
export function replicaUpdatesName(facts: PreflightFacts): string {
  return 'log_replica_updates' in facts.variables ? 'log_replica_updates' : 'log_slave_updates';
}

function shorten(value: string, max = 120): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

export const checkLogBin: Check = (f) => {
  const S = f.server;
  if (isOn(f.variables.log_bin)) {
    return {
      id: 'log_bin',
      status: 'ok',
      message: `log_bin is ON: ${S} writes a binlog for cachetail to read.`,
    };
  }
  return {
    id: 'log_bin',
    status: 'fail',
    message: `log_bin is OFF on ${S}: it writes no binlog, so cachetail has nothing to read and no key would ever be deleted.`,
    fix:
      f.flavor === 'mysql'
        ? `remove skip-log-bin / disable-log-bin from ${S}'s config (MySQL 8 writes a binlog by default) and restart it.`
        : `set log_bin=mysql-bin (any base name) in ${S}'s config and restart it.`,
  };
};

export const checkReplicaUpdates: Check = (f) => {
  const S = f.server;
  const name = replicaUpdatesName(f);
  const on = isOn(f.variables[name]);
  const id = 'log_slave_updates';
  const fix = `set ${name}=ON in the replica's config and restart it.`;
  if (f.replica.kind === 'not-replica') {
    return {
      id,
      status: 'warn',
      message:
        `${S} is not a replica (${replicaStatusStatement(f)} is empty): cachetail sees only the writes made ` +
        `directly on it` +
        (on ? '.' : `, and with ${name} OFF it would not see replicated writes if it became a replica.`),
      fix:
        `point cachetail at the region's replica, unless tailing ${S} itself is intended` +
        (on ? '.' : `; before ${S} replicates, ${fix}`),
    };
  }
  if (on) {
    return {
      id,
      status: 'ok',
      message: `${name} is ON: transactions ${S} replicates are re-logged into its own binlog.`,
    };
  }
  if (f.replica.kind === 'unknown') {
    return {
      id,
      status: 'fail',
      message:
        `${name} is OFF on ${S}, and whether ${S} is a replica is unknown (${f.replica.reason}): if it is, ` +
        `replicated transactions never reach its binlog, so no key would ever be deleted.`,
      fix: `${fix} If ${S} is not a replica, grant ${replicaMonitorPrivilege(f)} so that the preflight can see that.`,
    };
  }
  return {
    id,
    status: 'fail',
    message: `${name} is OFF on ${S}: replicated transactions never reach this replica's binlog, so no key would ever be deleted.`,
    fix,
  };
};

export const checkBinlogFormat: Check = (f) => {
  const format = (f.variables.binlog_format ?? '').toUpperCase();
  const text =
    f.flavor === 'mariadb' ? 'an Annotate_rows event' : 'a Rows_query event (binlog_rows_query_log_events)';
  const meanings: Record<string, string> = {
    ROW: `each write reaches the binlog as row events, its statement text only in ${text} before them.`,
    MIXED: `writes logged as statements keep their text; those logged as rows carry it only in ${text}.`,
    STATEMENT: 'every write is logged as its statement text, comments included.',
  };
  const meaning = meanings[format];
  if (meaning) return { id: 'binlog_format', status: 'ok', message: `binlog_format=${format}: ${meaning}` };
  return {
    id: 'binlog_format',
    status: 'warn',
    message: `binlog_format=${format || '(unset)'} on ${f.server}: not a format cachetail knows; annotations may not reach the binlog.`,
    fix: 'set binlog_format to ROW, MIXED or STATEMENT.',
  };
};

/** MariaDB: does the server write the statement text in front of the row events it logs itself? */
export const checkAnnotateRows: Check = (f) => {
  const S = f.server;
  const id = 'annotate_rows';
  if (isOn(f.variables.binlog_annotate_row_events)) {
    return {
      id,
      status: 'ok',
      message: `binlog_annotate_row_events is ON: row events of statements run on ${S} itself follow their text in an Annotate_rows event.`,
    };
  }
  const fix = `SET GLOBAL binlog_annotate_row_events=ON on ${S} and set it in its config (ON is the default).`;
  if ((f.variables.binlog_format ?? '').toUpperCase() === 'STATEMENT') {
    return {
      id,
      status: 'warn',
      message: `binlog_annotate_row_events is OFF on ${S}: harmless while binlog_format=STATEMENT, but row-logged statements would lose their text if the format changed.`,
      fix,
    };
  }
  if (f.replica.kind === 'not-replica') {
    return {
      id,
      status: 'fail',
      message: `binlog_annotate_row_events is OFF on ${S}: its row events are logged without the statement text, so no MEMCACHE_DIRTY comment reaches its binlog.`,
      fix,
    };
  }
  // Replicated events are re-logged with the primary's Annotate_rows event whatever this setting says
  // (that is replicate_annotate_row_events' job, verified on 10.11); only local writes lose their text.
  return {
    id,
    status: 'warn',
    message: `binlog_annotate_row_events is OFF on ${S}: replicated statements keep their Annotate_rows events (replicate_annotate_row_events), but writes run on ${S} itself are logged without their text.`,
    fix,
  };
};

/** MariaDB: does the replica ask for the primary's Annotate_rows events and re-log them? */
export const checkReplicateAnnotateRows: Check = (f) => {
  const S = f.server;
  const id = 'replicate_annotate_rows';
  if (f.replica.kind === 'not-replica') {
    return {
      id,
      status: 'ok',
      message: `${S} is not a replica: replicate_annotate_row_events does not apply.`,
    };
  }
  if (isOn(f.variables.replicate_annotate_row_events)) {
    // The IO thread requests Annotate_rows only when it re-logs (log_slave_updates ON); that setting
    // has its own check, so this one stays ok and says so.
    const effective = isOn(f.variables[replicaUpdatesName(f)])
      ? "the primary's Annotate_rows events are fetched and re-logged."
      : `it takes effect only once ${replicaUpdatesName(f)} is ON.`;
    return { id, status: 'ok', message: `replicate_annotate_row_events is ON: ${effective}` };
  }
  return {
    id,
    status: 'fail',
    message:
      `replicate_annotate_row_events is OFF on ${S}: it neither fetches the primary's Annotate_rows events nor ` +
      `re-logs them, so replicated row events reach its binlog without the statement text and no key would be deleted.`,
    fix: `set replicate_annotate_row_events=ON in the replica's config and restart it.`,
  };
};

/** MySQL: Rows_query events are written, and re-logged by the applier, only with this ON. */
export const checkRowsQueryLogEvents: Check = (f) => {
  const S = f.server;
  const id = 'rows_query_log_events';
  if (isOn(f.variables.binlog_rows_query_log_events)) {
    return {
      id,
      status: 'ok',
      message: `binlog_rows_query_log_events is ON (global): ${S}'s applier re-logs each statement's Rows_query event.`,
    };
  }
  const fix =
    `SET PERSIST binlog_rows_query_log_events=ON on ${S}, then restart its applier (STOP REPLICA SQL_THREAD; ` +
    `START REPLICA SQL_THREAD), which reads the global value when it starts; the primary needs it ON too.`;
  if ((f.variables.binlog_format ?? '').toUpperCase() === 'STATEMENT') {
    return {
      id,
      status: 'warn',
      message: `binlog_rows_query_log_events is OFF on ${S}: harmless while binlog_format=STATEMENT, but row events would carry no statement text if the format changed.`,
      fix,
    };
  }
  return {
    id,
    status: 'fail',
    message:
      `binlog_rows_query_log_events is OFF on ${S}: its binlog gets row events without Rows_query events, ` +
      `so the statement text (and its MEMCACHE_DIRTY comment) never reaches it.`,
    fix,
  };
};

export const checkServerId: Check = (f, opts) => {
  const S = f.server;
  const ours = opts.ourServerId;
  const own = Number(f.variables.server_id);
  const id = 'server_id_conflict';
  const fix =
    'set source.serverId (CACHETAIL_SOURCE_SERVER_ID) to an id that no server and no other cachetail in the ' +
    'topology uses (one id per tailer).';
  const why =
    'server ids must be unique in a replication topology: servers skip events carrying their own id and a second dump with a used id evicts the first.';
  if (ours === own) {
    return {
      id,
      status: 'fail',
      message: `cachetail's server id ${ours} (source.serverId) is also the server_id of ${S}: ${why}`,
      fix,
    };
  }
  const primaries: { server: string; id: number }[] = [];
  if (f.replica.kind === 'replica') {
    for (const c of f.replica.channels)
      if (c.sourceServerId > 0) primaries.push({ server: c.source, id: c.sourceServerId });
  }
  if (f.primary && 'variables' in f.primary) {
    primaries.push({ server: f.primary.server, id: Number(f.primary.variables.server_id) });
  }
  const clash = primaries.find((p) => p.id === ours);
  if (clash) {
    return {
      id,
      status: 'fail',
      message: `cachetail's server id ${ours} (source.serverId) is also the server_id of ${S}'s primary ${clash.server}: ${why}`,
      fix,
    };
  }
  const ids = [...new Set(primaries.map((p) => p.id))];
  return {
    id,
    status: 'ok',
    message:
      `cachetail registers as server id ${ours}; ${S} is server_id ${own}` +
      (ids.length > 0 ? `, its primary ${ids.join(', ')}.` : '.'),
  };
};

export const checkBinlogChecksum: Check = (f) => {
  const S = f.server;
  const value = (f.variables.binlog_checksum ?? '').toUpperCase();
  const id = 'binlog_checksum';
  if (value === 'CRC32')
    return { id, status: 'ok', message: 'binlog_checksum=CRC32: cachetail verifies every event.' };
  const fix = `SET GLOBAL binlog_checksum=CRC32 on ${S} and set it in its config.`;
  if (value === 'NONE') {
    return {
      id,
      status: 'warn',
      message: `binlog_checksum=NONE on ${S}: events carry no checksum, so a corrupted event cannot be detected.`,
      fix,
    };
  }
  return {
    id,
    status: 'fail',
    message: `binlog_checksum=${value || '(unset)'} on ${S}: cachetail reads CRC32 or NONE only.`,
    fix,
  };
};

export const checkGtid: Check = (f) => {
  const S = f.server;
  const v = f.variables;
  const id = 'gtid_mode';
  if (f.flavor === 'mariadb') {
    const pos = v.gtid_binlog_pos ?? '';
    const strict = isOn(v.gtid_strict_mode) ? 'ON' : 'OFF';
    if (pos !== '') {
      return {
        id,
        status: 'ok',
        message: `gtid_binlog_pos=${shorten(pos)}, gtid_strict_mode=${strict}: checkpoints resume by GTID.`,
      };
    }
    return {
      id,
      status: 'warn',
      message: `${S} has no GTID in its binlog yet (gtid_binlog_pos is empty, gtid_strict_mode=${strict}): until a transaction arrives, a checkpoint can only resume by file/position.`,
    };
  }
  const mode = (v.gtid_mode ?? '').toUpperCase();
  if (mode === 'ON') {
    // MySQL separates the sets of several source UUIDs with ",\n": one line per check in the report.
    const executed = (v.gtid_executed ?? '').replace(/\s+/g, '');
    return {
      id,
      status: 'ok',
      message: `gtid_mode=ON (gtid_executed=${shorten(executed) || '(empty)'}): checkpoints can resume by GTID.`,
    };
  }
  return {
    id,
    status: 'warn',
    // Not a failure: the tailer runs by file/position, and the edge's position mode falls back to the
    // time window for a write without a GTID (docs/edge.md), which is safe, only slower to unpin.
    message:
      `gtid_mode=${mode || '(unset)'} on ${S}: transactions carry no GTID, so checkpoints resume by ` +
      'file/position only, which does not survive a failover or a re-cloned replica, and the edge pins ' +
      "writers for the whole recent-write window (position mode needs the write's GTID).",
    fix: 'enable GTIDs on every server: enforce_gtid_consistency=ON, then gtid_mode OFF_PERMISSIVE → ON_PERMISSIVE → ON.',
  };
};
