/**
 * `npm run bench`: runs every bench/*.bench.ts, one after another, each in its own process (`tsx <file>`)
 * so one benchmark's heap, JIT state and peak RSS never colour the next. Output passes straight through;
 * each script prints its own markdown table. Exits non-zero if any benchmark failed.
 *
 *   npm run bench                 # all
 *   npm run bench -- decoder      # only files whose name contains "decoder"
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.join(benchDir, '..', 'node_modules', '.bin', 'tsx');
const filters = process.argv.slice(2);

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((q) => f.includes(q)))
  .sort();

if (files.length === 0) {
  console.error(`no bench/*.bench.ts matches ${filters.join(' ') || '(none present)'}`);
  process.exit(1);
}

const failed: string[] = [];
for (const file of files) {
  console.log(`\n## ${file}\n`);
  const started = Date.now();
  const r = spawnSync(tsx, [path.join(benchDir, file)], { stdio: 'inherit' });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed.push(file);
    console.error(
      `${file} failed (${r.error?.message ?? (r.signal ? `signal ${r.signal}` : `exit ${r.status}`)}) after ${secs} s`,
    );
  } else {
    console.log(`\n(${file}: ${secs} s)`);
  }
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
