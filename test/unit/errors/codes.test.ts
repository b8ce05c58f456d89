/**
 * The error-code registry (src/errors/codes.ts) and CachetailError: every code is documented, and the
 * `retryable` the tailer loop reads on an error is the registry's.
 */
import { describe, expect, it } from 'vitest';
import { AnnotationError } from '../../../src/annotate/errors.js';
import { InvalidationError } from '../../../src/app/errors.js';
import { BinlogDecodeError } from '../../../src/binlog/errors.js';
import { GtidError } from '../../../src/binlog/gtid/error.js';
import { CachetailError, errorCodeOf, errorFields } from '../../../src/errors.js';
import { ERROR_AREAS, ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from '../../../src/errors/codes.js';
import { MemcachedConnectionError } from '../../../src/sinks/memcached/connection.js';

const entries = Object.entries(ERROR_CODES) as [ErrorCode, ErrorCodeInfo][];

/** Builds any registered code, bypassing the overloads that tie `retryable` to the code's kind. */
function make(code: ErrorCode, opts?: { retryable?: boolean }): CachetailError {
  const Ctor = CachetailError as unknown as new (
    code: ErrorCode,
    message: string,
    opts?: { retryable?: boolean },
  ) => CachetailError;
  return new Ctor(code, `${code} happened`, opts);
}

describe('the error-code registry', () => {
  it('names each code in UPPER_SNAKE_CASE and gives it a known area', () => {
    for (const [code, info] of entries) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(Object.keys(ERROR_AREAS)).toContain(info.area);
    }
  });

  it('gives every code a one-line summary and an action an operator can follow', () => {
    const undocumented = entries.filter(
      ([, info]) => !/^[^\n]{10,}[.)]$/.test(info.summary) || !/^[^\n]{10,}[.)]$/.test(info.action),
    );
    expect(undocumented.map(([code]) => code)).toEqual([]);
  });

  it('every area has at least one code', () => {
    const used = new Set(entries.map(([, info]) => info.area));
    expect(Object.keys(ERROR_AREAS).filter((area) => !used.has(area as ErrorCodeInfo['area']))).toEqual([]);
  });

  it('says retryable yes, no or depends; depends stays rare (devcluster, START_FAILED, ERROR)', () => {
    const depends = entries.filter(([, info]) => info.retryable === 'depends');
    expect(depends.filter(([, info]) => info.area !== 'devcluster').map(([code]) => code)).toEqual([
      'ERROR',
      'START_FAILED',
    ]);
    for (const [, info] of entries) expect([true, false, 'depends']).toContain(info.retryable);
  });

  it('the gaps the tailer handles by gapPolicy, and the refusals it does not retry, are not retryable', () => {
    const fatal = [
      'BINLOG_UNAVAILABLE',
      'GAP_IDENTITY_CHANGED',
      'CHECKPOINT_CORRUPT',
      'REPLICATION_ACCESS_DENIED',
      'REPLICATION_TLS',
      'PREFLIGHT_FAILED',
      'CONFIG_INVALID',
    ] as const;
    expect(fatal.map((code) => ERROR_CODES[code].retryable)).toEqual(fatal.map(() => false));
    const transient = [
      'REPLICATION_CONNECT',
      'REPLICATION_DEAD',
      'REPLICATION_LOST',
      'MEMCACHED_TIMEOUT',
    ] as const;
    expect(transient.map((code) => ERROR_CODES[code].retryable)).toEqual(transient.map(() => true));
  });
});

describe('CachetailError', () => {
  it('takes retryable from the registry for every fixed code', () => {
    const fixed = entries.filter(([, info]) => info.retryable !== 'depends');
    expect(fixed.map(([code]) => [code, make(code).retryable])).toEqual(
      fixed.map(([code, info]) => [code, info.retryable]),
    );
  });

  it('a site cannot contradict the registry (the registry wins)', () => {
    expect(make('CONFIG_INVALID', { retryable: true }).retryable).toBe(false);
    expect(make('REPLICATION_CONNECT', { retryable: false }).retryable).toBe(true);
  });

  it('a context-dependent code takes the site’s answer', () => {
    expect(new CachetailError('START_FAILED', 'x', { retryable: true }).retryable).toBe(true);
    expect(new CachetailError('START_FAILED', 'x', { retryable: false }).retryable).toBe(false);
  });

  it('keeps code, message, name and cause', () => {
    const cause = new Error('socket hang up');
    const e = new CachetailError('REPLICATION_CONNECT', 'cannot connect', { cause });
    expect(e).toMatchObject({
      name: 'CachetailError',
      code: 'REPLICATION_CONNECT',
      message: 'cannot connect',
    });
    expect(e.cause).toBe(cause);
    expect('cause' in new CachetailError('REPLICATION_CONNECT', 'no cause')).toBe(false);
  });

  it('its subclasses are CachetailErrors with the registry’s retryable', () => {
    const errors = [
      new BinlogDecodeError('CHECKSUM_MISMATCH', 'stored 0x1, computed 0x2'),
      new GtidError('GTID_PARSE', 'not a GTID', 'x'),
      new InvalidationError('INVALIDATION_USAGE', 'bad ttl'),
      new MemcachedConnectionError('MEMCACHED_TIMEOUT', 'no answer'),
      new AnnotationError('ANNOTATION_NO_KEYS', 'an annotation needs at least one key'),
    ];
    expect(errors.map((e) => [e instanceof CachetailError, e.name, e.code, e.retryable])).toEqual([
      [true, 'BinlogDecodeError', 'CHECKSUM_MISMATCH', false],
      [true, 'GtidError', 'GTID_PARSE', false],
      [true, 'InvalidationError', 'INVALIDATION_USAGE', false],
      [true, 'MemcachedConnectionError', 'MEMCACHED_TIMEOUT', true],
      [true, 'AnnotationError', 'ANNOTATION_NO_KEYS', false],
    ]);
  });

  it('AnnotationError keeps its own name, code, message and retryable: false', () => {
    const e = new AnnotationError('ANNOTATION_INVALID_KEY', 'invalid cache key ""');
    expect(e).toBeInstanceOf(CachetailError);
    expect(e).toBeInstanceOf(AnnotationError);
    expect({ name: e.name, code: e.code, message: e.message, retryable: e.retryable }).toEqual({
      name: 'AnnotationError',
      code: 'ANNOTATION_INVALID_KEY',
      message: 'invalid cache key ""',
      retryable: false,
    });
    expect(String(e)).toBe('AnnotationError: invalid cache key ""');
  });
});

// Compile-time checks: `tsc -p tsconfig.json` covers test/, and each @ts-expect-error fails the
// typecheck the day its line stops being an error. Never called.
export function typeErrors(): void {
  // @ts-expect-error an unregistered code
  void new CachetailError('NOT_A_CODE', 'x');
  // @ts-expect-error a fixed code's retryable cannot be contradicted at the site
  void new CachetailError('CONFIG_INVALID', 'x', { retryable: true });
  // @ts-expect-error a context-dependent code needs the site's answer
  void new CachetailError('START_FAILED', 'x');
}

describe('errorFields and errorCodeOf (log lines, /status)', () => {
  it('a CachetailError’s code; a node or driver error’s own code; else ERROR', () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    expect(errorFields(new CachetailError('CHECKPOINT_WRITE', 'cannot write'))).toEqual({
      err: 'cannot write',
      code: 'CHECKPOINT_WRITE',
    });
    expect(errorFields(enoent)).toEqual({ err: 'ENOENT: no such file', code: 'ENOENT' });
    expect(errorFields(new Error('plain'))).toEqual({ err: 'plain', code: 'ERROR' });
    expect(errorFields('a string')).toEqual({ err: 'a string', code: 'ERROR' });
    expect([errorCodeOf(undefined), errorCodeOf(null), errorCodeOf({ code: 7 })]).toEqual([
      'ERROR',
      'ERROR',
      'ERROR',
    ]);
  });
});
