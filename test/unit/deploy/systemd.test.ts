/**
 * deploy/systemd/*.service parsed as systemd reads them (INI sections, repeated keys kept in order,
 * backslash continuations), then the keys that make them safe to run: the binary and config it starts,
 * restart policy, an unprivileged user, the state directory, credentials as files, hardening.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

type Unit = Map<string, Map<string, string[]>>;

/** systemd's unit syntax (systemd.syntax(7)): `[Section]`, `Key=value`, `#`/`;` comments, `\` continuation. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      if (unit.has(header[1])) throw new Error(`line ${i + 1}: section [${header[1]}] twice`);
      section = new Map();
      unit.set(header[1], section);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`line ${i + 1}: not a key=value in a section: ${line}`);
    const values = section.get(kv[1]) ?? [];
    values.push(kv[2]);
    section.set(kv[1], values);
  }
  return unit;
}

const one = (unit: Unit, section: string, key: string): string | undefined => {
  const values = unit.get(section)?.get(key);
  return values?.[values.length - 1];
};

const HARDENING: Record<string, string> = {
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectControlGroups: 'yes',
  RestrictSUIDSGID: 'yes',
  RestrictNamespaces: 'yes',
  LockPersonality: 'yes',
  CapabilityBoundingSet: '',
  UMask: '0077',
};

describe.each([
  ['cachetail-tail.service', 'tail', 'tailer.json', 'CACHETAIL_SOURCE_PASSWORD_FILE', 'db-password'],
  ['cachetail-edge.service', 'edge', 'edge.json', 'CACHETAIL_COOKIE_KEYS_FILE', 'cookie-keys'],
])('%s', (file, command, config, secretEnv, credential) => {
  const unit = parseUnit(readFileSync(`deploy/systemd/${file}`, 'utf8'));

  it('has the three sections and is wanted by multi-user.target', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(one(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
    expect(one(unit, 'Unit', 'After')).toContain('network-online.target');
  });

  it(`starts cachetail ${command} with its config, as an unprivileged user, restarting on failure`, () => {
    expect(one(unit, 'Service', 'ExecStart')).toBe(
      `/usr/bin/node /opt/cachetail/dist/cli.js ${command} --config /etc/cachetail/${config}`,
    );
    expect(one(unit, 'Service', 'Type')).toBe('exec');
    expect(one(unit, 'Service', 'User')).toBe('cachetail');
    expect(one(unit, 'Service', 'Group')).toBe('cachetail');
    expect(one(unit, 'Service', 'Restart')).toBe('on-failure');
    expect(one(unit, 'Service', 'KillSignal')).toBe('SIGTERM');
    // Longer than the tailer's drain (shutdown.drainMs, 10 s) so SIGKILL never cuts the checkpoint.
    expect(Number(one(unit, 'Service', 'TimeoutStopSec'))).toBeGreaterThanOrEqual(15);
  });

  it('hands the secret over as a systemd credential file, never as a value', () => {
    expect(one(unit, 'Service', 'LoadCredential')).toBe(
      `${credential}:/etc/cachetail/credentials/${credential}`,
    );
    const env = unit.get('Service')!.get('Environment')!;
    expect(env).toContain(`${secretEnv}=%d/${credential}`);
    for (const e of env) expect(e, e).not.toMatch(/^CACHETAIL_\w*(PASSWORD|KEYS)=/);
  });

  it('is hardened, without what would break Node (no MemoryDenyWriteExecute: V8 JIT)', () => {
    for (const [key, value] of Object.entries(HARDENING)) expect(one(unit, 'Service', key), key).toBe(value);
    expect(one(unit, 'Service', 'SystemCallFilter')).toBe('@system-service');
    expect(one(unit, 'Service', 'SystemCallErrorNumber')).toBe('EPERM');
    expect(one(unit, 'Service', 'RestrictAddressFamilies')).toBe('AF_INET AF_INET6 AF_UNIX');
    expect(one(unit, 'Service', 'MemoryDenyWriteExecute')).toBeUndefined();
  });
});

describe('cachetail-tail.service state', () => {
  it('keeps the checkpoint in a private StateDirectory that the config points at', () => {
    const unit = parseUnit(readFileSync('deploy/systemd/cachetail-tail.service', 'utf8'));
    expect(one(unit, 'Service', 'StateDirectory')).toBe('cachetail');
    expect(one(unit, 'Service', 'StateDirectoryMode')).toBe('0700');
    expect(unit.get('Service')!.get('Environment')).toContain('CACHETAIL_STATE_DIR=/var/lib/cachetail');
  });

  it('parses continuations and repeated keys like systemd', () => {
    const u = parseUnit('[Service]\nEnvironment=A=1\nEnvironment=B=2 \\\n  C=3\n');
    expect(u.get('Service')!.get('Environment')).toEqual(['A=1', 'B=2    C=3']);
    expect(() => parseUnit('Key=1\n')).toThrow(/not a key=value in a section/);
  });
});
