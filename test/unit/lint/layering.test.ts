/**
 * The layering rules of eslint.layers.js, run through the project's real ESLint config on real files
 * with one import added: a wrong arrow and an import cycle each fail lint with a message naming them.
 */
import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

/** The layering and cycle findings of `file` with `line` appended (other rules are not this test's). */
async function findings(file: string, line: string): Promise<string[]> {
  const text = `${readFileSync(file, 'utf8')}\n${line}\n`;
  const [result] = await eslint.lintText(text, { filePath: file });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.startsWith('import-x/'))
    .map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layering (eslint.layers.js)', () => {
  it('the files as they are pass', async () => {
    expect(await findings('src/tailer/delivery.ts', '')).toEqual([]);
  });

  it('tailer/ importing a concrete sink fails; the Sink port passes', async () => {
    expect(await findings('src/tailer/delivery.ts', "import '../sinks/memcached/sink.js';")).toEqual([
      'import-x/no-restricted-paths: Unexpected path "../sinks/memcached/sink.js" imported in restricted zone. layering: src/tailer may not import src/sinks (only ./sink.ts) — see eslint.layers.js',
    ]);
    expect(await findings('src/tailer/delivery.ts', "import '../sinks/sink.js';")).toEqual([]);
  });

  it('an arrow back up fails: sinks/ importing tailer/, config/ importing edge/, src/ importing test/', async () => {
    expect(await findings('src/sinks/kafka/sink.ts', "import '../../tailer/checkpoint.js';")).toEqual([
      'import-x/no-restricted-paths: Unexpected path "../../tailer/checkpoint.js" imported in restricted zone. layering: src/sinks may not import src/tailer — see eslint.layers.js',
    ]);
    expect(await findings('src/config/edge.ts', "import '../edge/keys.js';")).toEqual([
      'import-x/no-restricted-paths: Unexpected path "../edge/keys.js" imported in restricted zone. layering: src/config may not import src/edge — see eslint.layers.js',
    ]);
    expect(await findings('src/binlog/decoder.ts', "import '../../test/helpers/binlog/index.js';")).toEqual([
      'import-x/no-restricted-paths: Unexpected path "../../test/helpers/binlog/index.js" imported in restricted zone. layering: src/ may not import test/',
    ]);
  });

  it('an import cycle fails', async () => {
    // decoder.ts imports constants.ts; constants.ts importing decoder.ts closes the loop.
    expect(await findings('src/binlog/constants.ts', "import './decoder.js';")).toEqual([
      'import-x/no-cycle: Dependency cycle detected',
    ]);
  });
});
