/**
 * `cachetail doctor [--config FILE] [--json] [--primary HOST:PORT]`: runs the tailer's preflight against
 * the configured replica and prints the report, so an operator can check a setup before (or without)
 * starting the tailer. Same config as `cachetail tail` (file and/or CACHETAIL_* env vars).
 *
 * Exit codes: 0 every check ok or warn, 1 a check failed (the tailer would refuse to start), 2 the check
 * could not run (bad arguments or config, server unreachable, login refused).
 */
import { loadTailerConfig } from '../config/tailer.js';
import { CachetailError, errorMessage, type ErrorCode } from '../errors.js';
import { ReplicationConnection } from '../replication/client.js';
import { formatPreflightReport, runPreflight } from '../replication/preflight.js';
import { parseCommandArgs, usageErrorLine } from './usage.js';

export const DOCTOR_HELP = `usage: cachetail doctor [--config FILE] [--json] [--primary HOST:PORT]

Runs the tailer's preflight against the configured replica and prints the report: binlog settings,
server ids, the tailer user's privileges. Same config as cachetail tail.

  -c, --config FILE     JSON config file; CACHETAIL_<PATH> environment variables override its fields
  --json                the report (or the error) as JSON on stdout
  --primary HOST:PORT   also check the primary's settings (with the tailer's account)
  -h, --help            this text

Exit status: 0 every check ok or warn, 1 a check failed (the tailer would refuse to start), 2 the
check could not run (usage, config, server unreachable, login refused).
`;

export interface DoctorIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_CANNOT_CHECK = 2;

function parsePrimary(value: string): { host: string; port: number } {
  const m = /^([^\s:]+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new CachetailError('USAGE', `--primary ${JSON.stringify(value)}: expected HOST:PORT`);
  }
  return { host: m[1], port: Number(m[2]) };
}

/** CachetailError codes as they are; the rest are failed queries. */
function errorCode(err: unknown): ErrorCode {
  return err instanceof CachetailError ? err.code : 'PREFLIGHT_QUERY';
}

export async function doctorCommand(
  args: string[],
  io: DoctorIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let json = false;
  const connections: ReplicationConnection[] = [];
  try {
    const parsed = parseCommandArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        primary: { type: 'string' },
      },
    });
    if (parsed.help) {
      io.stdout.write(DOCTOR_HELP);
      return EXIT_OK;
    }
    const { values } = parsed;
    json = values.json === true;
    const primaryAddress = values.primary === undefined ? undefined : parsePrimary(values.primary);
    const config = loadTailerConfig(values.config, io.env);
    const source = config.source;
    const replica = await ReplicationConnection.open(source);
    connections.push(replica);
    let primary: ReplicationConnection | undefined;
    if (primaryAddress) {
      // Reading @@global needs no privilege, so the tailer's own account (which replicates to the
      // replica from the primary) is enough.
      primary = await ReplicationConnection.open({ ...source, ...primaryAddress });
      connections.push(primary);
    }
    const report = await runPreflight(replica, {
      ourServerId: source.serverId,
      server: `${source.host}:${source.port}`,
      primary,
      primaryServer: primaryAddress && `${primaryAddress.host}:${primaryAddress.port}`,
    });
    io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatPreflightReport(report));
    return report.ok ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    const code = errorCode(err);
    const message = errorMessage(err);
    if (json) io.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
    io.stderr.write(
      code === 'USAGE' ? usageErrorLine('doctor', err) : `cachetail doctor: ${message} [${code}]\n`,
    );
    return EXIT_CANNOT_CHECK;
  } finally {
    for (const conn of connections) conn.close();
  }
}
