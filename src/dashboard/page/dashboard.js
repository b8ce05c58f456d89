/* global document, fetch, setTimeout, location, URL */
// The dashboard page's only script: polls /dashboard/api/state once a second and redraws; in the demo,
// plays the Jason → Monkey scenario and shows its steps as they happen. Plain browser JavaScript (no
// build step). Every value from the server goes in with textContent: keys and names are user data.

const API = new URL('api/', location.href);
let histogram = 'endToEndLatency';
let lastState = null;
// A read-only dashboard has no scenario routes: ask for the run only once the state says demo.
let scenarioSeen = false;
const rates = [];

/** Element helper: h('td', { class: 'key' }, 'text', child…). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

function fill(el, ...children) {
  el.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
}

/** <dt>/<dd> pairs; a value may be a node. */
function pairs(rows) {
  const out = [];
  for (const [label, value, cls] of rows) {
    out.push(h('dt', {}, label), h('dd', cls ? { class: cls } : {}, value ?? '—'));
  }
  return out;
}

const byId = (id) => document.getElementById(id);

function seconds(s) {
  if (s === null || s === undefined) return '—';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (Number.isInteger(s)) return `${s} s`;
  return `${s.toFixed(s < 10 ? 1 : 0)} s`;
}

function ago(ms, now) {
  if (!ms) return '—';
  return `${seconds(Math.max(0, (now - ms) / 1000))} ago`;
}

function yesNo(v) {
  if (v === null || v === undefined) return '—';
  return v ? 'running' : 'stopped';
}

function renderLinks(state) {
  fill(
    byId('links'),
    ...state.links.map((l) => h('a', { href: l.url, target: '_blank', rel: 'noopener' }, l.label)),
  );
  const mode = byId('mode');
  mode.textContent = state.mode === 'demo' ? 'local demo' : 'read-only';
  byId('scenario-card').hidden = state.mode !== 'demo';
  const problems = byId('problems');
  problems.hidden = state.problems.length === 0;
  problems.textContent = state.problems.join(' · ');
}

function renderRegions(state) {
  const box = byId('regions');
  if (!state.regions) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  fill(
    box,
    ...state.regions.map((r) => {
      const db = r.database;
      const dbRows = [
        [db.role === 'primary' ? 'primary' : 'replica', db.address],
        ['GTID', db.gtid],
      ];
      if (db.role === 'replica') {
        dbRows.push(
          [
            'IO / SQL thread',
            `${yesNo(db.ioThreadRunning)} / ${yesNo(db.sqlThreadRunning)}`,
            db.sqlThreadRunning === false ? 'bad' : 'ok',
          ],
          [
            'replication lag',
            db.secondsBehindMaster === null || db.secondsBehindMaster === undefined
              ? '—'
              : `${db.secondsBehindMaster} s`,
          ],
          [
            'behind primary',
            db.transactionsBehind === null || db.transactionsBehind === undefined
              ? '—'
              : `${db.transactionsBehind} transactions`,
            db.transactionsBehind ? 'bad' : 'ok',
          ],
        );
      }
      if (db.error) dbRows.push(['error', db.error, 'bad']);
      const c = r.cache;
      const cacheRows = [
        ['memcached', c.address],
        ['items', c.items],
        ['get hits / misses', `${c.getHits ?? '—'} / ${c.getMisses ?? '—'}`],
        ['delete hits', c.deleteHits],
      ];
      if (c.error) cacheRows.push(['error', c.error, 'bad']);
      const s = r.sample;
      let sample = null;
      if (s) {
        const stale =
          s.cache !== null && s.database !== null && s.cache !== s.database && s.cache !== '(tombstone)';
        sample = h(
          'div',
          { class: 'sample', 'data-region-sample': r.name },
          h('h2', { class: 'spaced' }, 'Watched key ', h('code', {}, s.key)),
          h(
            'dl',
            {},
            ...pairs([
              ['database', s.database],
              [
                'cache',
                s.cache === null
                  ? '(not cached)'
                  : h(
                      'span',
                      { class: stale ? 'value-stale' : 'value-fresh' },
                      s.cache + (stale ? ' — stale' : ''),
                    ),
              ],
            ]),
          ),
        );
      }
      return h(
        'article',
        { class: 'card region', 'data-region': r.name },
        h(
          'h2',
          {},
          r.name,
          h('span', { class: 'role' }, r.role === 'master' ? 'master region' : 'replica region'),
        ),
        h('dl', {}, ...pairs(dbRows)),
        h('h2', { class: 'spaced' }, 'Cache tier'),
        h('dl', {}, ...pairs(cacheRows)),
        sample,
        r.appUrl
          ? h('p', {}, h('a', { href: r.appUrl, target: '_blank', rel: 'noopener' }, `${r.name} app`))
          : null,
      );
    }),
  );
}

function renderTailer(state) {
  const t = state.tailer;
  if (t.error) {
    fill(byId('tailer'), ...pairs([['error', t.error, 'bad']]));
    return;
  }
  byId('tailer-region').textContent = `region ${t.region}`;
  const rows = [
    ['state', `${t.state}${t.ready ? ' · ready' : ' · not ready'}`, t.ready ? 'ok' : 'bad'],
    ['read position', t.position ? `${t.position.file}:${t.position.position}` : null],
    ['read GTID', t.position?.gtid ?? null],
    ['watermark GTID', t.watermark ? t.watermark.gtid || '(no GTID)' : null],
    [
      'watermark at',
      t.watermark
        ? `${t.watermark.file}:${t.watermark.position}, ${ago(t.watermark.updatedAt, state.now)}`
        : null,
    ],
    ['lag', seconds(t.lagSeconds)],
    ['pending transactions', t.pendingTransactions ?? null],
  ];
  if (t.notReady) rows.push(['not ready', `${t.notReady.reason}: ${t.notReady.message}`, 'bad']);
  if (t.gap) rows.push(['gap', `${t.gap.code} (${t.gap.policy}): ${t.gap.message}`, 'bad']);
  if (t.lastError) rows.push(['last error', `${t.lastError.code}: ${t.lastError.message}`, 'bad']);
  fill(byId('tailer'), ...pairs(rows));
}

function renderFigures(state) {
  const m = state.metrics;
  byId('inv-rate').textContent = String(m.invalidationsPerSecond);
  rates.push(m.invalidationsPerSecond);
  if (rates.length > 60) rates.shift();
  const max = Math.max(1, ...rates);
  const step = 300 / 59;
  byId('spark-line').setAttribute(
    'points',
    rates.map((r, i) => `${(i + 60 - rates.length) * step},${40 - (r / max) * 36}`).join(' '),
  );
  const by = m.keysByResult;
  fill(
    byId('totals'),
    ...pairs([
      ['keys invalidated', h('span', { id: 'inv-total' }, String(m.keysInvalidated))],
      ['deleted / not cached', `${by.deleted ?? 0} / ${by.not_found ?? 0}`],
      ['tombstoned / journaled', `${by.tombstoned ?? 0} / ${by.journaled ?? 0}`],
      ['transactions (with keys)', `${m.transactions} (${m.transactionsWithKeys})`],
      ['delete errors', m.deleteErrors, m.deleteErrors ? 'bad' : 'ok'],
      ['reconnects / gaps', `${m.reconnects} / ${m.gapEvents}`, m.gapEvents ? 'bad' : null],
    ]),
  );
  renderHistogram(m[histogram]);
}

function bound(le) {
  if (le === null) return '+Inf';
  return le < 1 ? `${le * 1000}ms` : `${le}s`;
}

function renderHistogram(hist) {
  const box = byId('histogram');
  if (!hist) {
    fill(box);
    byId('hist-summary').textContent = 'no histogram in this registry';
    return;
  }
  const max = Math.max(1, ...hist.buckets.map((b) => b.count));
  const bars = hist.buckets.map((b) => {
    const bar = h('div', { class: 'fill' });
    // Through the CSSOM, not a style attribute: the page's CSP forbids inline styles.
    bar.style.height = `${(b.count / max) * 85}%`;
    return h(
      'div',
      { class: 'bar', title: `≤ ${bound(b.le)}: ${b.count}` },
      h('span', { class: 'count' }, b.count ? String(b.count) : ''),
      bar,
    );
  });
  fill(box, ...bars);
  const labels = h(
    'div',
    { class: 'histogram-labels' },
    ...hist.buckets.map((b) => h('span', {}, bound(b.le))),
  );
  if (box.nextElementSibling?.classList.contains('histogram-labels'))
    box.nextElementSibling.replaceWith(labels);
  else box.after(labels);
  byId('hist-summary').textContent =
    hist.count === 0
      ? 'no transactions measured yet'
      : `${hist.count} transactions · p50 ${seconds(hist.p50)} · p99 ${seconds(hist.p99)}`;
}

function renderRecent(state) {
  const body = byId('recent').tBodies[0];
  const r = state.recentKeys;
  if (!r) {
    byId('recent-count').textContent = '(not recorded by this process)';
    fill(body);
    return;
  }
  byId('recent-count').textContent = `(${r.recorded} since start)`;
  fill(
    body,
    ...r.keys.map((k) => {
      const from = k.writerTimeMs ?? k.commitTimeMs;
      return h(
        'tr',
        {},
        h('td', { class: 'key' }, k.key),
        h('td', {}, k.gtid || '—'),
        h(
          'td',
          {},
          seconds(Math.max(0, (k.acknowledgedAt - from) / 1000)) + (k.writerTimeMs ? '' : ' (≥, commit s)'),
        ),
        h('td', {}, ago(k.acknowledgedAt, state.now)),
      );
    }),
  );
}

function percent(f) {
  if (f === null || f === undefined) return '—';
  return `${(f * 100).toFixed(f === 1 ? 0 : 3)} %`;
}

/** One row per delay: "within 1 s: 100 % (12 checks, 0 stale)", judged against the target's delay. */
function consistencyRows(c) {
  const r = c.report;
  const rows = c.report.delays.map((d) => {
    const judged = c.target && d.delayMs === c.target.withinMs && d.fraction !== null;
    const cls = judged ? (d.fraction >= c.target.fraction ? 'ok' : 'bad') : d.stale > 0 ? 'bad' : null;
    return [
      `within ${seconds(d.delayMs / 1000)}`,
      `${percent(d.fraction)} (${d.checks} checks, ${d.stale} stale)`,
      cls,
    ];
  });
  if (c.target)
    rows.push(['target', `${percent(c.target.fraction)} within ${seconds(c.target.withinMs / 1000)}`]);
  rows.push([
    'keys sampled',
    `1 in ${r.every}: ${r.sampled} of ${r.keysSeen} (${r.pending} pending, ${r.skipped} skipped)`,
  ]);
  return rows;
}

function renderSide(state) {
  const c = state.consistency;
  fill(
    byId('consistency'),
    c
      ? h('dl', { id: 'consistency-figures' }, ...pairs(consistencyRows(c)))
      : h(
          'p',
          { class: 'muted', id: 'consistency-off' },
          'not enabled — the consistency sampler is not running in this process',
        ),
  );
  const k = state.kafka;
  fill(
    byId('kafka'),
    k
      ? h(
          'dl',
          {},
          ...pairs([
            ['state', k.state],
            ['brokers', k.brokers.join(', ')],
            ['topic', k.topic],
            ['watermark', k.watermark],
          ]),
        )
      : h('p', { class: 'muted' }, 'not enabled'),
  );
}

async function poll() {
  try {
    const res = await fetch(new URL('state', API), { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const state = await res.json();
    lastState = state;
    if (state.mode === 'demo' && !scenarioSeen) {
      scenarioSeen = true;
      void followScenario();
    }
    renderLinks(state);
    renderRegions(state);
    renderTailer(state);
    renderFigures(state);
    renderRecent(state);
    renderSide(state);
  } catch (err) {
    const problems = byId('problems');
    problems.hidden = false;
    problems.textContent = `cannot reach the dashboard API: ${err.message}`;
  }
  setTimeout(poll, 1000);
}

function renderRun(run) {
  const play = byId('play');
  play.disabled = run !== null && run.state === 'running';
  if (!run) return;
  fill(
    byId('steps'),
    ...run.steps.map((s) =>
      h(
        'li',
        { 'data-step': s.id },
        h('div', { class: 'title' }, s.title),
        h('div', { class: 'detail' }, s.detail),
        h(
          'div',
          { class: 'chips' },
          ...s.values.map((v) =>
            h(
              'span',
              { class: `chip ${v.tone ?? ''}`, 'data-label': v.label },
              `${v.label}: `,
              h('b', {}, v.value),
            ),
          ),
        ),
      ),
    ),
  );
  const result = byId('scenario-result');
  result.className = 'result';
  if (run.state === 'running') result.textContent = 'running…';
  else if (run.state === 'failed') {
    result.textContent = `failed: ${run.error}`;
    result.classList.add('bad');
  } else {
    result.textContent = `done: the replica region now serves “${run.finalName}”`;
    result.classList.add(run.finalName === 'Monkey' ? 'ok' : 'bad');
  }
}

async function followScenario() {
  const res = await fetch(new URL('scenario', API), { cache: 'no-store' });
  if (!res.ok) return;
  const { run } = await res.json();
  renderRun(run);
  if (run && run.state === 'running') setTimeout(() => void followScenario(), 300);
}

async function play() {
  byId('play').disabled = true;
  const res = await fetch(new URL('scenario', API), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const body = await res.json();
  renderRun(body.run);
  void followScenario();
}

for (const button of document.querySelectorAll('[data-hist]')) {
  button.addEventListener('click', () => {
    histogram = button.dataset.hist;
    for (const b of document.querySelectorAll('[data-hist]')) b.classList.toggle('active', b === button);
    if (lastState) renderHistogram(lastState.metrics[histogram]);
  });
}
byId('play').addEventListener('click', () => void play());
void poll();
