/**
 * The tailer account's privileges. REPLICATION SLAVE is required (the server refuses COM_BINLOG_DUMP
 * without it) and can only be read from SHOW GRANTS. The monitoring privileges are judged by what the
 * server actually allowed during gathering, because other privileges can stand in for them (SUPER still
 * allows SHOW SLAVE STATUS on MariaDB 10.11, but not SHOW RELAYLOG EVENTS). The one behind SHOW MASTER
 * STATUS / SHOW BINARY LOG STATUS is required too: without it the tailer cannot find where to start.
 *
 * MariaDB's plain SHOW GRANTS includes the privileges of the enabled roles (verified on 10.11); MySQL's
 * does not expand roles, so a role grant there makes a missing REPLICATION SLAVE a warning only.
 */
import type { Check } from './preflight-checks.js';
import {
  binlogMonitorPrivilege,
  binlogStatusStatement,
  relayLogPrivilege,
  replicaMonitorPrivilege,
  replicaStatusStatement,
} from './preflight-sql.js';
import type { PreflightFacts } from './preflight-types.js';

export interface ParsedGrants {
  /** Privileges granted ON *.*, upper case. */
  global: Set<string>;
  /** Whether any role is granted (`GRANT role TO user`, no ON clause). */
  roles: boolean;
}

export function parseGrants(lines: readonly string[]): ParsedGrants {
  const global = new Set<string>();
  let roles = false;
  for (const line of lines) {
    const m = /^GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s/i.exec(line);
    if (!m) {
      if (/^GRANT\s+.+\s+TO\s/i.test(line)) roles = true;
      continue;
    }
    if (m[2] !== '*.*') continue;
    for (const p of m[1].split(',')) global.add(p.trim().replace(/\s+/g, ' ').toUpperCase());
  }
  return { global, roles };
}

export function hasGlobal(grants: ParsedGrants, privilege: string): boolean {
  return grants.global.has(privilege) || grants.global.has('ALL PRIVILEGES') || grants.global.has('ALL');
}

/**
 * Monitoring privileges the server refused during gathering, each with what that costs. The binlog
 * monitor privilege is required (the start at the current end and the flush gap policy read the binlog
 * position with it); the others only blind parts of the preflight.
 */
function missingOptional(f: PreflightFacts): Map<string, string[]> {
  const missing = new Map<string, string[]>();
  const add = (privilege: string, effect: string) =>
    missing.set(privilege, [...(missing.get(privilege) ?? []), effect]);
  if (f.binlogStatus.kind === 'refused') {
    add(
      binlogMonitorPrivilege(f),
      `${binlogStatusStatement(f)} is refused, so cachetail cannot read ${f.server}'s current binlog ` +
        'position, which it needs to start without a checkpoint and to continue after a gap',
    );
  }
  if (f.replica.kind === 'unknown' && /denied/i.test(f.replica.reason)) {
    add(
      replicaMonitorPrivilege(f),
      `${replicaStatusStatement(f)} is refused, so the preflight cannot see ${f.server}'s replication`,
    );
  }
  if (f.relay.some((s) => s.kind === 'unreadable' && s.refused)) {
    add(
      relayLogPrivilege(f),
      "SHOW RELAYLOG EVENTS is refused, so the preflight cannot check the primary's binlog format",
    );
  }
  return missing;
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export const checkPrivileges: Check = (f) => {
  const id = 'privileges';
  const S = f.server;
  const who = f.currentUser;
  const grantFix = (privileges: string[]) =>
    `GRANT ${privileges.join(', ')} ON *.* TO ${who} (on the primary, so that the grant replicates).`;
  const optional = missingOptional(f);
  const describeLacks = (entries: [string, string[]][]) =>
    entries.map(([privilege, effects]) => `${privilege} (${effects.join('; ')})`).join(' and ');
  const lacks = describeLacks([...optional]);
  // On MySQL SHOW RELAYLOG EVENTS needs REPLICATION SLAVE itself: said once, with the required one.
  const others = [...optional].filter(([p]) => p !== 'REPLICATION SLAVE');
  const slaveEffects = (optional.get('REPLICATION SLAVE') ?? []).map((e) => `; ${e}`).join('');
  const also = others.length === 0 ? '' : ` It also lacks ${describeLacks(others)}.`;
  const alsoAll = optional.size === 0 ? '' : ` It also lacks ${lacks}.`;
  const optionalNames = others.map(([p]) => p);
  // Refused SHOW MASTER STATUS / SHOW BINARY LOG STATUS: the tailer could not find where to start.
  const required = f.binlogStatus.kind === 'refused';

  if (f.grants === undefined) {
    return {
      id,
      status: required ? 'fail' : 'warn',
      message: `SHOW GRANTS failed on ${S}, so whether ${who} has REPLICATION SLAVE (needed for the binlog dump) is unknown.${alsoAll}`,
      ...(optionalNames.length > 0 ? { fix: grantFix(optionalNames) } : {}),
    };
  }
  const grants = parseGrants(f.grants);
  if (!hasGlobal(grants, 'REPLICATION SLAVE')) {
    if (f.flavor === 'mysql' && grants.roles) {
      return {
        id,
        status: required ? 'fail' : 'warn',
        message: `${who} has no direct REPLICATION SLAVE grant on ${S}; it may come from a role, which SHOW GRANTS does not expand. Without it the server refuses the binlog dump.${alsoAll}`,
        fix: `make sure a default role of ${who} has REPLICATION SLAVE, or ${grantFix(['REPLICATION SLAVE', ...optionalNames])}`,
      };
    }
    return {
      id,
      status: 'fail',
      message: `${who} lacks REPLICATION SLAVE on ${S}: the server refuses the binlog dump, so cachetail cannot read any event${slaveEffects}.${also}`,
      fix: grantFix(['REPLICATION SLAVE', ...optionalNames]),
    };
  }
  if (optional.size > 0) {
    return {
      id,
      status: required ? 'fail' : 'warn',
      message: `${who} lacks ${lacks} on ${S}.`,
      fix: grantFix([...optional.keys()]),
    };
  }
  const ran = [binlogStatusStatement(f)];
  if (f.replica.kind !== 'unknown') ran.push(replicaStatusStatement(f));
  if (f.relay.length > 0) ran.push('SHOW RELAYLOG EVENTS');
  return {
    id,
    status: 'ok',
    message: `${who} has REPLICATION SLAVE (for the binlog dump) and may run ${list(ran)} on ${S}.`,
  };
};
