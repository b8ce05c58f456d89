/**
 * Prints one line per vitest project (unit, and each server line: files, passed, failed, skipped), then
 * one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own summary, so tools
 * that read a run's last lines (not vitest's format) can count the tests.
 */
import type { Reporter, TestModule } from 'vitest/node';

interface Counts {
  files: number;
  passed: number;
  failed: number;
  skipped: number;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const total: Counts = { files: 0, passed: 0, failed: 0, skipped: 0 };
    const perProject = new Map<string, Counts>();
    for (const mod of testModules) {
      const name = mod.project.name || 'default';
      const counts = perProject.get(name) ?? { files: 0, passed: 0, failed: 0, skipped: 0 };
      perProject.set(name, counts);
      counts.files++;
      total.files++;
      let failedTests = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        const key = state === 'passed' ? 'passed' : state === 'failed' ? 'failed' : 'skipped';
        if (key === 'failed') failedTests++;
        counts[key]++;
        total[key]++;
      }
      // A file that failed outside its tests (it did not load, or a beforeAll/afterAll hook threw, which
      // leaves its tests skipped) must still count as a failure.
      if (mod.state() === 'failed' && failedTests === 0) {
        counts.failed++;
        total.failed++;
      }
    }
    const lines = [...perProject].map(
      ([name, c]) =>
        `  ${name}: ${c.files} files, ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`,
    );
    // After vitest's own summary, which other reporters print concurrently with this hook.
    process.once('exit', () => {
      process.stdout.write(`per project:\n${lines.join('')}`);
      process.stdout.write(
        `tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`,
      );
    });
  }
}
