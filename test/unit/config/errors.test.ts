/**
 * Config errors as an operator reads them (issue #17 item 5): a missing field is "required" with the
 * variable that sets it, host:port lists are checked in full when the config loads, every problem comes
 * in one message, and a file that is not JSON is reported at file:line:column without quoting its text.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { doctorCommand } from '../../../src/commands/doctor.js';
import { loadTailerConfig } from '../../../src/config/tailer.js';
import { loadConsumerConfig } from '../../../src/consumer/config.js';
import { testTempDir } from '../../helpers/temp-dir.js';

/** The error a load throws, as code and message. */
function failure(load: () => unknown): { code: unknown; message: string } {
  try {
    load();
  } catch (err) {
    return { code: (err as { code?: unknown }).code, message: (err as Error).message };
  }
  throw new Error('the config loaded');
}

const invalid = (...lines: string[]) => ({
  code: 'CONFIG_INVALID',
  message: ['invalid configuration:', ...lines.map((l) => `  ${l}`)].join('\n'),
});

const SERVERS = { CACHETAIL_MEMCACHED_SERVERS: '127.0.0.1:11211' };

describe('a missing field', () => {
  it('is required, with the variable that sets it; a missing section names the fields it needs', () => {
    expect(failure(() => loadTailerConfig(undefined, {}))).toEqual(
      invalid(
        'source.user is required (set it in the config file or CACHETAIL_SOURCE_USER)',
        'memcached.servers is required (set it in the config file or CACHETAIL_MEMCACHED_SERVERS)',
      ),
    );
    expect(failure(() => loadTailerConfig(undefined, { ...SERVERS, CACHETAIL_SOURCE_HOST: 'db1' }))).toEqual(
      invalid('source.user is required (set it in the config file or CACHETAIL_SOURCE_USER)'),
    );
    expect(failure(() => loadConsumerConfig(undefined, {}))).toEqual(
      invalid(
        'kafka.brokers is required (set it in the config file or CACHETAIL_KAFKA_BROKERS)',
        'memcached.servers is required (set it in the config file or CACHETAIL_MEMCACHED_SERVERS)',
      ),
    );
  });

  it('without a variable for it: the config file alone', () => {
    const file = join(testTempDir('cachetail-config-'), 'tailer.json');
    writeFileSync(
      file,
      JSON.stringify({
        source: { user: 'u' },
        memcached: { servers: ['m:1'] },
        kafka: { enabled: true, brokers: ['k:9092'], ssl: { enabled: true }, sasl: { username: 'u' } },
        consistency: { truth: { queries: [{ key: 'user:{id}' }] } },
      }),
    );
    expect(failure(() => loadTailerConfig(file, {}))).toEqual(
      invalid(
        'kafka.sasl.mechanism is required (set it in the config file or CACHETAIL_KAFKA_SASL_MECHANISM)',
        'consistency.truth.queries.0.sql is required (set it in the config file)',
      ),
    );
  });

  it('a value of the wrong kind is not called missing', () => {
    expect(
      failure(() =>
        loadTailerConfig(undefined, { ...SERVERS, CACHETAIL_SOURCE_USER: 'u', CACHETAIL_GAP_POLICY: 'skip' }),
      ),
    ).toEqual(invalid('gapPolicy: Invalid option: expected one of "fail-closed"|"flush"'));
  });
});

describe('host:port lists', () => {
  it('are checked when the config loads: a port 1-65535 and a host without a colon, naming the value', () => {
    expect(
      failure(() =>
        loadTailerConfig(undefined, {
          CACHETAIL_SOURCE_USER: 'u',
          CACHETAIL_MEMCACHED_SERVERS: '127.0.0.1:99999,:11211,[::1]:11211,cache-2:0,cache-3:11211',
          CACHETAIL_KAFKA_BROKERS: 'kafka-1:9092,kafka-2',
        }),
      ),
    ).toEqual(
      invalid(
        'memcached.servers.0: expected host:port with a port 1-65535, got "127.0.0.1:99999"',
        'memcached.servers.1: expected host:port with a port 1-65535, got ":11211"',
        'memcached.servers.2: expected host:port with a port 1-65535, got "[::1]:11211"',
        'memcached.servers.3: expected host:port with a port 1-65535, got "cache-2:0"',
        'kafka.brokers.1: expected host:port with a port 1-65535, got "kafka-2"',
      ),
    );
    expect(
      failure(() => loadConsumerConfig(undefined, { ...SERVERS, CACHETAIL_KAFKA_BROKERS: 'kafka-1:65536' })),
    ).toEqual(invalid('kafka.brokers.0: expected host:port with a port 1-65535, got "kafka-1:65536"'));
  });

  it('are refused by doctor before it connects', async () => {
    let stdout = '';
    const code = await doctorCommand(['--json'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: () => true },
      env: { CACHETAIL_SOURCE_USER: 'u', CACHETAIL_MEMCACHED_SERVERS: '127.0.0.1:99999' },
    });
    expect({ code, ...(JSON.parse(stdout) as object) }).toEqual({
      code: 2,
      error: invalid('memcached.servers.0: expected host:port with a port 1-65535, got "127.0.0.1:99999"'),
    });
  });

  it('accept names, addresses and the whole port range', () => {
    const c = loadTailerConfig(undefined, {
      CACHETAIL_SOURCE_USER: 'u',
      CACHETAIL_MEMCACHED_SERVERS: 'localhost:1,10.0.0.2:65535,cache.eu.internal:11211',
    });
    expect(c.memcached.servers).toEqual(['localhost:1', '10.0.0.2:65535', 'cache.eu.internal:11211']);
  });
});

describe('every problem in one message', () => {
  it('an env value that is not a number joins the schema problems', () => {
    expect(
      failure(() =>
        loadTailerConfig(undefined, { CACHETAIL_SOURCE_PORT: 'abc', CACHETAIL_MEMCACHED_SERVERS: 'm:1,m:x' }),
      ),
    ).toEqual(
      invalid(
        'CACHETAIL_SOURCE_PORT="abc" is not a number',
        'source.user is required (set it in the config file or CACHETAIL_SOURCE_USER)',
        'memcached.servers.1: expected host:port with a port 1-65535, got "m:x"',
      ),
    );
  });
});

describe('a config file that is not JSON', () => {
  function load(text: string) {
    const file = join(testTempDir('cachetail-config-'), 'tailer.json');
    writeFileSync(file, text);
    return {
      file,
      failure: failure(() => loadTailerConfig(file, { CACHETAIL_SOURCE_USER: 'u', ...SERVERS })),
    };
  }

  it('is reported at file:line:column, never quoting the text around the error', () => {
    const { file, failure: f } = load('{\n  "source": {\n    "password": s3cret-value\n  }\n}\n');
    expect(f).toEqual({
      code: 'CONFIG_PARSE',
      message: `${file}:3:17: invalid JSON: unexpected 's', expected a value`,
    });
    expect(load('{\n  "memcached": { "servers": ["m:1",] }\n}\n').failure.message).toMatch(
      /:2:35: invalid JSON: trailing comma before '\]' \(JSON allows none\)$/,
    );
    expect(load('{ "region": "eu" ').failure.message).toMatch(
      /:1:18: invalid JSON: expected ',' or '}' after a property value$/,
    );
    expect(load('').failure.message).toMatch(/:1:1: invalid JSON: unexpected end of file, expected a value$/);
  });

  it('must hold an object; a byte-order mark before it is fine', () => {
    const { file, failure: f } = load('["m:1"]');
    expect(f).toEqual({
      code: 'CONFIG_PARSE',
      message: `${file}: expected a JSON object ({ … }) at the top level, found an array`,
    });
    expect(load('null').failure.message).toMatch(
      /: expected a JSON object \(\{ … \}\) at the top level, found null$/,
    );
    const bom = join(testTempDir('cachetail-config-'), 'bom.json');
    writeFileSync(bom, '\uFEFF{ "region": "eu" }');
    expect(loadTailerConfig(bom, { CACHETAIL_SOURCE_USER: 'u', ...SERVERS }).region).toBe('eu');
  });
});
