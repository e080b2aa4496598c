// The Grafana dashboard is importable JSON (a ${DS_PROMETHEUS} input, schemaVersion 39, panels
// laid out on the 24-column grid without overlapping), it shows what operators expect, and every
// metric it queries is one the service exports (its own metrics or prom-client's defaults).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { exportedNames, metricNames } from './promql.js';

const file = new URL('../../../ops/grafana/svc-rewarder.json', import.meta.url);

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.filter((p) => p.type !== 'row');
const exprs = queries.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));


test('the dashboard is an importable Grafana dashboard with a Prometheus input', () => {
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
  assert.equal(dashboard.title, 'svc-rewarder');
  assert.match(dashboard.uid, /^[a-zA-Z0-9_-]{1,40}$/);
  assert.deepEqual(
    dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]),
    [['DS_PROMETHEUS', 'datasource', 'prometheus']],
  );
  for (const p of queries) {
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, p.title);
    assert.ok((p.targets ?? []).length > 0, `${p.title}: no query`);
    for (const t of p.targets ?? []) {
      assert.equal(t.datasource?.uid, '${DS_PROMETHEUS}', `${p.title}: target data source`);
      assert.ok((t.expr ?? '').trim() !== '', `${p.title}: empty expr`);
    }
    const refs = (p.targets ?? []).map((t) => t.refId);
    assert.equal(new Set(refs).size, refs.length, `${p.title}: duplicate refId`);
  }
});

test('panel ids are unique and panels sit on the grid without overlapping', () => {
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'duplicate panel id');
  const cells = new Map<string, string>();
  for (const p of panels) {
    const g = p.gridPos;
    assert.ok(g.w >= 1 && g.h >= 1 && g.x >= 0 && g.y >= 0 && g.x + g.w <= 24, `${p.title}: gridPos ${JSON.stringify(g)}`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        const other = cells.get(`${x},${y}`);
        assert.equal(other, undefined, `${p.title} overlaps ${other}`);
        cells.set(`${x},${y}`, p.title);
      }
    }
  }
});

test('the dashboard shows the SLO views operators expect', () => {
  const all = exprs.map((e) => e.expr).join('\n');
  const expect: [string, RegExp][] = [
    ['compute p95', /histogram_quantile\(0\.95, sum by \(le\) \(rate\(reward_compute_latency_seconds_bucket/],
    ['compute p99', /histogram_quantile\(0\.99, sum by \(le\) \(rate\(reward_compute_latency_seconds_bucket/],
    ['compute request p95', /histogram_quantile\(0\.95, sum by \(le\) \(rate\(http_request_duration_seconds_bucket\{[^}]*route="\/epochs\/:epoch\/compute"/],
    ['compute request p99', /histogram_quantile\(0\.99, sum by \(le\) \(rate\(http_request_duration_seconds_bucket\{[^}]*route="\/epochs\/:epoch\/compute"/],
    ['runs by status', /sum by \(status\) \(rate\(reward_runs_total/],
    ['rejects by reason', /sum by \(reason\) \(rate\(rejected_total/],
    ['ledger results', /sum by \(result\) \(rate\(ledger_intents_total/],
    ['held intents', /ledger_held_intents/],
    ['ledger degraded', /ledger_egress_degraded/],
    ['queue depth', /queue_depth/],
    ['in-flight', /inflight_requests/],
    ['RSS', /process_resident_memory_bytes/],
    ['event-loop lag', /nodejs_eventloop_lag_seconds/],
    ['5xx rate', /http_request_duration_seconds_count\{[^}]*status=~"5\.\."/],
    ['invariant failures', /reward_invariant_fail_total/],
  ];
  for (const [what, re] of expect) assert.match(all, re, what);
});

test('every metric the dashboard queries is exported by the service', async () => {
  const exported = await exportedNames();
  const unknown: string[] = [];
  for (const { panel, expr } of exprs) {
    for (const name of metricNames(expr)) if (!exported.has(name)) unknown.push(`${panel}: ${name}`);
  }
  for (const v of dashboard.templating.list) {
    const text = typeof v.query === 'string' ? v.query : (v.definition ?? '');
    if (v.type !== 'query') continue;
    for (const name of metricNames(text)) if (!exported.has(name) && name !== 'up') unknown.push(`variable ${v.name}: ${name}`);
  }
  assert.deepEqual(unknown, []);
  // Sanity of the extraction itself.
  assert.deepEqual(metricNames('sum by (le) (rate(a_bucket{x="y"}[$__rate_interval])) / on (job) b_total or vector(0)'), ['a_bucket', 'b_total']);
});
