/** What the demo prints: the scenario's steps and where to look. Plain text, no colours (pipes, CI). */
import type { ScenarioStep } from '../dashboard/index.js';
import { MASTER_REGION, REPLICA_REGION, type DemoStack } from './stack.js';
import { SCENARIO_LOGIN } from './scenario.js';

export function formatStep(step: ScenarioStep): string {
  const values = step.values
    .map((v) => `${v.label}: ${v.value}${v.tone === 'stale' ? ' (stale)' : ''}`)
    .join(' · ');
  return `${step.n}. ${step.title}\n     ${values}`;
}

export function whereToLook(stack: DemoStack): string {
  const { info, urls } = stack;
  const db = (e: { host: string; port: number }) => `mariadb -h ${e.host} -P ${e.port} -u root`;
  return `
── The demo is running: where to look ──
  Dashboard        ${urls.dashboard}
                   (press “Play the original scenario” to replay it step by step)
  Edge proxy       ${urls.edge}/users/${SCENARIO_LOGIN}
                   reads stay in ${REPLICA_REGION}; writes and recent writers go to ${MASTER_REGION}
  App ${MASTER_REGION.padEnd(12)} ${urls.masterApp}/users   (master region: reads the primary)
  App ${REPLICA_REGION.padEnd(12)} ${urls.replicaApp}/users   (replica region: reads the replica)
  Tailer           ${urls.status}   ${urls.metrics}
  MariaDB primary  ${db(info.primary)}   (${MASTER_REGION})
  MariaDB replica  ${db(info.replica)}   (${REPLICA_REGION})
  memcached        ${MASTER_REGION} ${info.memcached.master}   ${REPLICA_REGION} ${info.memcached.replica}
  Logs             ${stack.logFile}
  Try a write by hand: ${db(info.primary)} --comments demo -e
    "UPDATE users SET name = 'Jay' WHERE login = '${SCENARIO_LOGIN}' /* MEMCACHE_DIRTY user:${SCENARIO_LOGIN} */"
  (the mariadb client strips comments unless run with --comments)`;
}
