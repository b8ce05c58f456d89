/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core): the demo runs in this
 * process on the suite's cluster; the page loads with both regions and the tailer, the button plays the
 * Jason → Monkey scenario step by step with the exact values, the figures move, and a screenshot is saved
 * to .cache/screenshots/dashboard.png (git-ignored) for a person to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kafkaUnavailable, startDemoKafka } from '../../src/demo/kafka.js';
import { startDemo, type DemoStack } from '../../src/demo/stack.js';
import { clusterControl } from '../../src/devcluster/index.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join('.cache', 'screenshots', 'dashboard.png');
const haveChromium = existsSync(CHROMIUM);
// Kafka as `npm start` runs it, when this machine has Java and the broker jars (the suite's broker).
const kafkaMissing = kafkaUnavailable(process.cwd());
const KAFKA_TOPIC = 'demo-dashboard-test';
if (!haveChromium && process.env.CI !== 'true') {
  console.warn(
    `\n  SKIPPED demo-dashboard: ${CHROMIUM} not found — apt-get install -y chromium (required when CI=true)\n`,
  );
}

describe('dashboard in headless Chromium', () => {
  if (!haveChromium && process.env.CI === 'true') {
    it('needs chromium on CI', () => {
      throw new Error(`${CHROMIUM} not found: .ci/run installs the chromium package`);
    });
    return;
  }
  if (!haveChromium) {
    it.skip(`needs ${CHROMIUM}`, () => undefined);
    return;
  }

  let stack: DemoStack;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    stack = await startDemo({
      cluster: clusterControl(inject('cluster')),
      paceMs: 150,
      kafka: kafkaMissing
        ? undefined
        : { start: (config, log, info) => startDemoKafka(info, config, log, { topic: KAFKA_TOPIC }) },
    });
    const kafka = await stack.kafka;
    if (kafka && !kafka.ok) throw new Error(`Kafka did not start: ${kafka.reason}`);
    profile = mkdtempSync(join(tmpdir(), 'cachetail-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1400 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });

  afterAll(async () => {
    await context?.close();
    await stack?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const text = (selector: string) => page.locator(selector).first().innerText();
  const chip = (step: string, label: string) =>
    page.locator(`[data-step="${step}"] .chip[data-label="${label}"] b`).innerText();

  it('shows both regions and the streaming tailer', async () => {
    await page.goto(stack.urls.dashboard);
    await page.locator('#mode', { hasText: /^local demo$/ }).waitFor();
    await page.locator('[data-region="virginia"]').waitFor();
    expect(await text('[data-region="california"] h2')).toContain('master region');
    expect(await text('[data-region="virginia"] h2')).toContain('replica region');
    await page.locator('#tailer', { hasText: 'streaming · ready' }).waitFor();
    expect(await text('#consistency')).toContain('target');
    expect(await page.locator('#play').isEnabled()).toBe(true);
    if (kafkaMissing) console.warn(`  demo-dashboard: Kafka part skipped — ${kafkaMissing}`);
    else await page.locator('#kafka', { hasText: KAFKA_TOPIC }).waitFor();
  });

  it('plays the scenario: the stale “Jason” is trapped, the tailer deletes it, “Monkey” is served', async () => {
    const before = Number(await text('#inv-total'));
    await page.click('#play');
    await page.locator('[data-step="fresh-read"]').waitFor({ timeout: 60_000 });
    await page.locator('#scenario-result', { hasText: /^done/ }).waitFor();

    const items = page.locator('#steps li');
    const ids: (string | null)[] = [];
    for (let i = 0; i < (await items.count()); i++) ids.push(await items.nth(i).getAttribute('data-step'));
    expect(ids).toEqual([
      'reset',
      'lag',
      'write',
      'own-read',
      'stale-read',
      'trapped',
      'replicate',
      'delete',
      'fresh-read',
    ]);
    expect(await chip('write', 'routed to')).toBe('california');
    expect(await chip('own-read', 'served by')).toBe('california');
    expect(await chip('own-read', 'name')).toBe('Monkey');
    expect(await chip('stale-read', 'served by')).toBe('virginia');
    expect(await chip('stale-read', 'name')).toBe('Jason');
    expect(await chip('stale-read', 'virginia cache now')).toBe('Jason');
    expect(await chip('trapped', 'source')).toBe('cache');
    expect(await chip('trapped', 'name')).toBe('Jason');
    expect(await chip('replicate', 'virginia replica')).toBe('Monkey');
    expect(await chip('delete', 'deleted')).toBe('user:jsobel');
    expect(await chip('delete', 'GTID')).toBe(await chip('write', 'GTID'));
    expect(await chip('delete', 'virginia cache now')).toBe('(empty)');
    expect(await chip('fresh-read', 'served by')).toBe('virginia');
    expect(await chip('fresh-read', 'source')).toBe('database');
    expect(await chip('fresh-read', 'name')).toBe('Monkey');
    expect(await text('#scenario-result')).toBe('done: the replica region now serves “Monkey”');

    // The figures follow: two keys invalidated (the reset and the rename), newest first in the table.
    await expect.poll(async () => Number(await text('#inv-total')), { timeout: 10_000 }).toBe(before + 2);
    expect(await text('#recent tbody tr td.key')).toBe('user:jsobel');
    await expect.poll(() => text('[data-region-sample="virginia"] dd'), { timeout: 10_000 }).toBe('Monkey');
    expect(await text('#hist-summary')).toMatch(/^\d+ transactions · p50 /);
    // The sampler checked both deletes 1 s later: virginia's cache held nothing older than its replica.
    await expect
      .poll(() => text('#consistency-figures dd'), { timeout: 10_000 })
      .toBe('100 % (2 checks, 0 stale)');
    // The Kafka tailer published the rename too: its watermark reaches the write's GTID.
    if (!kafkaMissing) {
      const gtid = await chip('write', 'GTID');
      await expect.poll(() => text('#kafka dd:nth-of-type(4)'), { timeout: 20_000 }).toBe(gtid);
      expect(await text('#kafka dd')).toBe('streaming');
    }
    expect(pageErrors).toEqual([]);

    mkdirSync(join('.cache', 'screenshots'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});
