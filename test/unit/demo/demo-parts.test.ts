/** The demo's pure parts: the missing-packages message, "transactions behind", cached values, printing. */
import { describe, expect, it } from 'vitest';
import { encodeEnvelope, TOMBSTONE_VALUE } from '../../../src/app/index.js';
import { escapeHtml, PROFILE_TYPE } from '../../../src/demo/app.js';
import { missingPackages, missingPackagesMessage } from '../../../src/demo/packages.js';
import { formatStep } from '../../../src/demo/print.js';
import { cachedName, transactionsBehind } from '../../../src/demo/regions.js';

describe('missingPackages', () => {
  it('names every missing package once, in one install command (sudo unless root)', () => {
    const bins = { 'no-such-binary-a': 'pkg-b', 'no-such-binary-b': 'pkg-a', 'no-such-binary-c': 'pkg-b' };
    const missing = missingPackages(bins, false);
    expect(missing).toEqual({
      binaries: ['no-such-binary-a', 'no-such-binary-b', 'no-such-binary-c'],
      packages: ['pkg-a', 'pkg-b'],
      command: 'sudo apt-get install -y pkg-a pkg-b',
    });
    expect(missingPackages(bins, true)?.command).toBe('apt-get install -y pkg-a pkg-b');
    expect(missingPackagesMessage(missing!)).toContain('\n  sudo apt-get install -y pkg-a pkg-b\n');
  });

  it('is null when everything is there', () => {
    expect(missingPackages({ sh: 'dash' })).toBeNull();
  });
});

describe('transactionsBehind', () => {
  it('sums, per domain, the primary seq minus the replica seq', () => {
    expect(transactionsBehind('0-1-10', '0-1-10')).toBe(0);
    expect(transactionsBehind('0-1-12', '0-1-10')).toBe(2);
    expect(transactionsBehind('0-1-12,1-1-5', '0-1-10')).toBe(7);
    // The replica's own writes under another server id do not count as ahead.
    expect(transactionsBehind('0-1-12', '0-2-20')).toBe(0);
  });

  it('is null when a position is unknown or not MariaDB GTIDs', () => {
    expect(transactionsBehind(null, '0-1-1')).toBeNull();
    expect(transactionsBehind('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', '0-1-1')).toBeNull();
  });
});

describe('cachedName', () => {
  it('reads the name out of a cached profile, and names the other cases', () => {
    const profile = Buffer.from(encodeEnvelope(PROFILE_TYPE, { login: 'jsobel', name: 'Jason' })!);
    expect(cachedName(profile)).toBe('Jason');
    expect(cachedName(null)).toBeNull();
    expect(cachedName(TOMBSTONE_VALUE)).toBe('(tombstone)');
    expect(cachedName(Buffer.from('{"x":1}'))).toBe('(not a profile)');
    expect(cachedName(Buffer.from(encodeEnvelope(PROFILE_TYPE, null)!))).toBe('(no such user)');
  });
});

describe('printing', () => {
  it('formats a step on two lines, marking stale values', () => {
    expect(
      formatStep({
        n: 5,
        id: 'stale-read',
        title: 'Another reader',
        detail: 'ignored in the terminal',
        values: [
          { label: 'served by', value: 'virginia' },
          { label: 'name', value: 'Jason', tone: 'stale' },
        ],
        at: 0,
      }),
    ).toBe('5. Another reader\n     served by: virginia · name: Jason (stale)');
  });

  it('escapes HTML in the demo app pages', () => {
    expect(escapeHtml(`<b a="1">'&'</b>`)).toBe('&#60;b a=&#34;1&#34;&#62;&#39;&#38;&#39;&#60;/b&#62;');
  });
});
