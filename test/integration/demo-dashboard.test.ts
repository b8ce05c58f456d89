/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core): the demo runs in this
 * process on the suite's cluster; the page loads with both regions and the tailer, the button plays the
 * Jason → Monkey scenario step by step with the exact values, the figures move, every histogram label is
 * drawn whole inside its column, and a screenshot is saved to .cache/screenshots/dashboard.png
 * (git-ignored) for a person to look at.
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

/** The DOM as far as the label check reads it (the tests are typed without the DOM library). */
interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}
interface LabelElement {
  textContent: string | null;
  getBoundingClientRect(): Box;
  ownerDocument: {
    createRange(): { selectNodeContents(node: LabelElement): void; getBoundingClientRect(): Box };
  };
}
// Kafka as `npm start` runs it, when this machine has Java and the broker jars (the suite's broker).
const kafkaMissing = kafkaUnavailable(process.cwd());
const KAFKA_TOPIC = 'demo-dashboard-test';
/** The latency histograms' bucket bounds (LATENCY_BUCKETS) as the page writes them. */
const LATENCY_LABELS = [
  ...['1ms', '2.5ms', '5ms', '10ms', '25ms', '50ms', '100ms', '250ms', '500ms'],
  ...['1s', '2.5s', '5s', '10s', '30s', '60s', '+Inf'],
];
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
  });

  it('labels every latency bucket in full, each inside its own column', async () => {
    const labels = page.locator('.histogram-labels span');
    await expect.poll(() => labels.count()).toBe(LATENCY_LABELS.length);
    // Where each label's text is drawn against its column: a label wider than its column ("2.5ms" in
    // 20px) was cut to "2.5r"; its text (textContent) would still have been whole.
    const drawn = await labels.evaluateAll((nodes: unknown[]) =>
      (nodes as LabelElement[]).map((span) => {
        const range = span.ownerDocument.createRange();
        range.selectNodeContents(span);
        const text = range.getBoundingClientRect();
        const column = span.getBoundingClientRect();
        const inside =
          text.left >= column.left - 0.5 &&
          text.right <= column.right + 0.5 &&
          text.top >= column.top - 0.5 &&
          text.bottom <= column.bottom + 0.5;
        return { label: span.textContent, inside, visible: text.width > 0 && text.height > 0 };
      }),
    );
    expect(drawn).toEqual(LATENCY_LABELS.map((label) => ({ label, inside: true, visible: true })));
  });

  it('leaves a screenshot of the played scenario', async () => {
    mkdirSync(join('.cache', 'screenshots'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});
