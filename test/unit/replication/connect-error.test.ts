/**
 * How a failed connect is reported: a refused login or a failed TLS handshake is not retryable and says
 * what to change; a network failure is retryable. Errors shaped as mysql2 raises them (errno + code).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectError, mysqlTlsOptions, type ReplicationSource } from '../../../src/replication/client.js';
import { testTempDir } from '../../helpers/temp-dir.js';

const SOURCE: ReplicationSource = {
  host: '10.0.0.2',
  port: 3306,
  user: 'cachetail',
  password: 'x',
  serverId: 9,
  connectTimeoutMs: 1_000,
  heartbeatMs: 0,
};
const TLS = { enabled: true, rejectUnauthorized: true, verifyIdentity: false };

function mysql2Error(message: string, fields: { errno?: number; code: string }): Error {
  return Object.assign(new Error(message), fields);
}

const DENIED = mysql2Error("Access denied for user 'cachetail'@'10.0.0.9' (using password: YES)", {
  errno: 1045,
  code: 'ER_ACCESS_DENIED_ERROR',
});

describe('connectError', () => {
  it('a refused login: not retryable, names the settings and, without TLS, REQUIRE SSL', () => {
    expect(connectError(SOURCE, DENIED)).toMatchObject({
      code: 'REPLICATION_ACCESS_DENIED',
      retryable: false,
      message:
        "cannot connect to 10.0.0.2:3306 as cachetail: server error 1045: Access denied for user 'cachetail'@'10.0.0.9' (using password: YES). " +
        'Fix: check source.user and source.password / source.passwordFile (CACHETAIL_SOURCE_PASSWORD), and that the account exists for the host the tailer connects from, ' +
        'or enable source.ssl if the account was created REQUIRE SSL/X509 (the server then refuses a plain connection with this same error).',
    });
    expect(connectError({ ...SOURCE, ssl: TLS }, DENIED).message).toMatch(/connects from\.$/);
  });

  it('a refused login without a password: says none is configured and where it would come from', () => {
    const noPassword = { ...SOURCE, password: '' };
    const deniedNoPassword = mysql2Error(
      "Access denied for user 'cachetail'@'10.0.0.9' (using password: NO)",
      { errno: 1045, code: 'ER_ACCESS_DENIED_ERROR' },
    );
    expect(connectError(noPassword, deniedNoPassword)).toMatchObject({
      code: 'REPLICATION_ACCESS_DENIED',
      retryable: false,
      message:
        "cannot connect to 10.0.0.2:3306 as cachetail: server error 1045: Access denied for user 'cachetail'@'10.0.0.9' (using password: NO). " +
        'Fix: no password is configured (source.password is empty): set CACHETAIL_SOURCE_PASSWORD, or source.password ' +
        'or source.passwordFile in the config file, to the password of source.user "cachetail".',
    });
    // With a password configured, the same refusal keeps the general fix; it never quotes the password.
    const withPassword = connectError({ ...SOURCE, password: 'pw-never-shown' }, DENIED).message;
    expect(withPassword).toMatch(/Fix: check source\.user and source\.password/);
    expect(withPassword).not.toContain('pw-never-shown');
  });

  it('names the fix of locked accounts, expired passwords and require_secure_transport', () => {
    const fixOf = (errno: number) =>
      connectError(SOURCE, mysql2Error('refused', { errno, code: 'X' })).message.replace(/^.*Fix: /, '');
    expect([3118, 1862, 3159].map(fixOf)).toEqual([
      'unlock the account of source.user "cachetail" (ALTER USER … ACCOUNT UNLOCK).',
      'set a new password for source.user "cachetail" (ALTER USER … IDENTIFIED BY).',
      'the server requires TLS (require_secure_transport): enable source.ssl.',
    ]);
  });

  it('a failed TLS handshake: not retryable, names source.ssl.caFile', () => {
    const err = mysql2Error('self-signed certificate in certificate chain', { code: 'HANDSHAKE_SSL_ERROR' });
    expect(connectError({ ...SOURCE, ssl: TLS }, err)).toMatchObject({
      code: 'REPLICATION_TLS',
      retryable: false,
      message:
        'cannot connect to 10.0.0.2:3306 as cachetail: TLS: self-signed certificate in certificate chain. ' +
        'Fix: set source.ssl.caFile to the CA that signed the server certificate (MySQL: ca.pem in its datadir); ' +
        'source.ssl.verifyIdentity needs a certificate issued for source.host.',
    });
  });

  it('a network failure or a busy server is retryable', () => {
    const refused = mysql2Error('connect ECONNREFUSED 10.0.0.2:3306', { code: 'ECONNREFUSED' });
    const tooMany = mysql2Error('Too many connections', { errno: 1040, code: 'ER_CON_COUNT_ERROR' });
    for (const err of [refused, tooMany]) {
      expect(connectError(SOURCE, err)).toMatchObject({
        code: 'REPLICATION_CONNECT',
        retryable: true,
        message: `cannot connect to 10.0.0.2:3306 as cachetail: ${err.message}`,
      });
    }
  });
});

describe('mysqlTlsOptions', () => {
  it('is undefined without source.ssl or when disabled; reads the PEM files otherwise', () => {
    expect(mysqlTlsOptions(undefined)).toBeUndefined();
    expect(mysqlTlsOptions({ ...TLS, enabled: false })).toBeUndefined();
    const dir = testTempDir('cachetail-tls-');
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    expect(mysqlTlsOptions({ ...TLS, caFile: join(dir, 'ca.pem') })).toEqual({
      ca: 'CA PEM',
      rejectUnauthorized: true,
      verifyIdentity: false,
    });
    expect(() => mysqlTlsOptions({ ...TLS, caFile: join(dir, 'missing.pem') })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_READ',
        retryable: false,
        message: expect.stringContaining(`cannot read source.ssl.caFile ${join(dir, 'missing.pem')}: ENOENT`),
      }),
    );
  });
});
