/** `cachetail outbox cleanup` argument handling (the cleanup itself runs against MariaDB in app-outbox). */
import { describe, expect, it } from 'vitest';
import { outboxCommand, parseAge, parseCleanupArgs } from '../../../src/commands/outbox.js';

const base = ['cleanup', '--host', '127.0.0.1', '--user', 'app', '--database', 'shop'];

describe('cachetail outbox cleanup arguments', () => {
  it('defaults: port 3306, cachetail_dirty_keys, older than 1 h, batches of 1,000, 20 ms pause; password from env', () => {
    expect(parseCleanupArgs(base, { CACHETAIL_DB_PASSWORD: 's3cret' })).toEqual({
      connection: { host: '127.0.0.1', port: 3306, user: 'app', password: 's3cret', database: 'shop' },
      table: 'cachetail_dirty_keys',
      carrierTable: undefined,
      olderThanSeconds: 3600,
      batchRows: 1000,
      maxBatches: undefined,
      pauseMs: 20,
      json: false,
    });
  });

  it('reads every option', () => {
    const args = [...base, '--port', '3307', '--table', 'ops.outbox', '--carrier-table', 'ops.carrier'];
    args.push('--older-than', '15m', '--batch', '500', '--max-batches', '3', '--pause-ms', '0', '--json');
    expect(parseCleanupArgs(args, {})).toMatchObject({
      connection: { port: 3307, password: '' },
      table: 'ops.outbox',
      carrierTable: 'ops.carrier',
      olderThanSeconds: 900,
      batchRows: 500,
      maxBatches: 3,
      pauseMs: 0,
      json: true,
    });
  });

  it('parses ages', () => {
    expect(['0', '90', '90s', '15m', '2h', '7d'].map(parseAge)).toEqual([0, 90, 90, 900, 7200, 604800]);
    for (const bad of ['', '1.5h', '-1', '1w', 'h']) expect(() => parseAge(bad)).toThrow(/older-than/);
  });

  it('refuses bad arguments with exit 2 and a line naming the help, before connecting', async () => {
    const bad = [
      [],
      ['purge'],
      ['cleanup', '--host', 'h', '--user', 'u'],
      [...base, '--batch', '0'],
      [...base, '--port', '70000'],
      [...base, '--older-than', 'soon'],
      [...base, '--pause-ms', '-5'],
      [...base, '--password', 'x'],
    ];
    for (const args of bad) {
      let err = '';
      const code = await outboxCommand(args, {
        stdout: { write: () => true },
        stderr: { write: (s: string) => (err += s) },
        env: {},
      });
      expect([args, code]).toEqual([args, 2]);
      expect([args, err]).toEqual([
        args,
        expect.stringMatching(/^cachetail outbox: .+ \(see cachetail outbox --help\) \[USAGE\]\n$/),
      ]);
    }
  });
});
