/**
 * Locates the public fixtures in ../shared (next to the repository, never copied into it).
 * Missing fixtures skip the tests that need them, with a visible message, except in CI
 * (`CI=true`), where they fail: a CI run that silently skipped them would prove nothing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = path.resolve(repoRoot, '../shared');
export const binlogFixturesDir = path.join(sharedDir, 'fixtures/binlog');

export function binlogFixturesAvailable(): boolean {
  return existsSync(path.join(binlogFixturesDir, 'SOURCES.md'));
}

/** Absolute path of a file under shared/fixtures/binlog. */
export function binlogFixture(relative: string): string {
  return path.join(binlogFixturesDir, relative);
}

/**
 * `describe` for tests that need shared/fixtures/binlog: skipped with a message when the folder is
 * missing, failing when it is missing in CI.
 */
export function describeWithBinlogFixtures(name: string, body: () => void): void {
  if (binlogFixturesAvailable()) {
    describe(name, body);
    return;
  }
  const why = `binlog fixtures not found at ${binlogFixturesDir} (expected ../shared next to the repository)`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the binlog fixtures', () => {
        throw new Error(`${why}; CI must provide them`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${why}`);
  describe.skip(`${name} (skipped: ${why})`, body);
}
