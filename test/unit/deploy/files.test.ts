/**
 * Everything under deploy/ parses, scripts are executable and strict, the generated secrets stay out of
 * git, and the Dockerfile builds what the manifests run (entrypoint, user, ports, copied paths).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deployFiles, yamlDocs } from './helpers.js';

const files = deployFiles();

describe('deploy/ files', () => {
  it('parses every YAML and JSON file', () => {
    const data = files.filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(data.length).toBeGreaterThanOrEqual(15);
    for (const f of data) {
      if (f.endsWith('.json')) expect(() => JSON.parse(readFileSync(f, 'utf8')) as unknown, f).not.toThrow();
      else expect(yamlDocs(f).length, f).toBeGreaterThan(0);
    }
  });

  it('has executable shell scripts that stop on the first error', () => {
    const scripts = files.filter((f) => f.endsWith('.sh'));
    expect(scripts.length).toBe(3);
    for (const f of scripts) {
      expect(statSync(f).mode & 0o111, `${f} is executable`).not.toBe(0);
      const text = readFileSync(f, 'utf8');
      expect(text, f).toMatch(/^#!\/bin\/(ba)?sh\n/);
      expect(text, f).toMatch(/\nset -eu(o pipefail)?\n/);
    }
  });

  it('keeps generated secrets out of git', () => {
    expect(readFileSync('deploy/compose/secrets/.gitignore', 'utf8')).toMatch(/^\*\n!\.gitignore\n$/m);
    expect(files.filter((f) => f.startsWith('deploy/compose/secrets/'))).toEqual([
      'deploy/compose/secrets/.gitignore',
    ]);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync('deploy/Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  const instructions = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
  const all = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.args);

  it('builds in one stage and runs in another, as a fixed non-root user', () => {
    expect(all('FROM')).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE}']);
    expect(all('ARG')).toEqual(['NODE_IMAGE=node:20-bookworm-slim']);
    expect(all('USER')).toEqual(['10001:10001']);
    expect(all('RUN').join('\n')).toContain('npm ci --no-audit --no-fund --ignore-scripts');
    expect(all('RUN').join('\n')).toContain('npm run build && npm prune --omit=dev');
  });

  it('starts dist/cli.js with `tail` by default and exposes the documented ports', () => {
    expect(all('ENTRYPOINT')).toEqual(['["node", "/opt/cachetail/dist/cli.js"]']);
    expect(all('CMD')).toEqual(['["tail", "--config", "/etc/cachetail/tailer.json"]']);
    expect(all('EXPOSE')).toEqual(['9464 8080 9465']);
    expect(all('ENV').join(' ')).not.toMatch(/PASSWORD|SECRET|KEYS/);
  });

  it('copies only paths that exist, and the build script it runs also ships the dashboard page', () => {
    for (const copy of all('COPY').filter((c) => !c.startsWith('--from'))) {
      const sources = copy.split(/\s+/).slice(0, -1);
      for (const s of sources) expect(existsSync(s), s).toBe(true);
    }
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toContain('dist/dashboard/page');
    const ignore = readFileSync('deploy/Dockerfile.dockerignore', 'utf8');
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src/**',
      'proto/**',
    ]) {
      expect(ignore).toContain(`!${path}`);
    }
  });
});
