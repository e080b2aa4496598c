// The alert rules are valid Prometheus rules and fire on the shapes they are meant for
// (`promtool check rules`, `promtool test rules`), every alert carries a severity, a summary and a
// runbook anchor that exists in RUNBOOK.md, and every metric an expression reads is one the
// service exports. promtool is required (testing/promtool.ts finds it; npm test installs it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promtool } from '../promtool.js';
import { exportedNames, metricNames } from './promql.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const RULES = 'ops/prometheus/alerts.yml';
const RULE_TESTS = 'ops/prometheus/rules.test.yml';
const rulesText = readFileSync(join(repo, RULES), 'utf8');

test('promtool check rules accepts the alert rules', () => {
  const r = promtool(['check', 'rules', RULES]);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS: \d+ rules found/);
});

test('promtool test rules: the alerts fire on synthetic series', () => {
  const r = promtool(['test', 'rules', RULE_TESTS]);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

// ---- structure, without promtool (the rule file is plain YAML in a fixed layout)

interface Rule {
  kind: 'alert' | 'record';
  name: string;
  body: string;
}

/** The rules of alerts.yml, each with its text up to the next rule. */
function rules(text: string): Rule[] {
  const out: Rule[] = [];
  const re = /^ {6}- (alert|record): (\S+)\s*$/gm;
  const starts = [...text.matchAll(re)];
  starts.forEach((m, k) => {
    const end = k + 1 < starts.length ? (starts[k + 1]?.index as number) : text.length;
    out.push({ kind: m[1] as Rule['kind'], name: m[2] as string, body: text.slice(m.index, end) });
  });
  return out;
}

/** The expression of a rule: a one-line `expr:` or a `expr: |` block. */
function exprOf(body: string): string {
  const one = /^ {8}expr: (?!\|)(.+)$/m.exec(body);
  if (one !== null) return one[1] as string;
  const block = /^ {8}expr: \|\n((?: {10}.*\n?)+)/m.exec(body);
  assert.ok(block !== null, `no expr in ${body.slice(0, 60)}`);
  return block[1] as string;
}

/** GitHub's heading anchors. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');


/**
 * Series that come from elsewhere: `up` is Prometheus' own; `rewarder_work_queue_max` is the
 * gauge the queue-depth rule prefers and falls back from (4096) until the service exports it.
 */
const EXTERNAL = new Set(['up', 'rewarder_work_queue_max']);

test('every alert has a severity, a summary and a runbook anchor that RUNBOOK.md has', () => {
  const runbook = readFileSync(join(repo, 'RUNBOOK.md'), 'utf8');
  const anchors = new Set([...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)));
  const alerts = rules(rulesText).filter((r) => r.kind === 'alert');
  assert.ok(alerts.length >= 10, `only ${alerts.length} alerts`);
  for (const a of alerts) {
    assert.match(a.body, /^ {10}severity: (page|ticket)$/m, `${a.name}: severity`);
    assert.match(a.body, /^ {10}summary: "\S.*"$/m, `${a.name}: summary`);
    const url = /^ {10}runbook_url: "RUNBOOK\.md#([a-z0-9-]+)"$/m.exec(a.body);
    assert.ok(url !== null, `${a.name}: runbook_url`);
    assert.equal(url[1], a.name.toLowerCase(), `${a.name}: the anchor is the alert name`);
    assert.ok(anchors.has(url[1] as string), `${a.name}: RUNBOOK.md has no heading for #${url[1]}`);
  }
});

test('the seed pages and tickets are all there, with their severities', () => {
  const severity = new Map(
    rules(rulesText)
      .filter((r) => r.kind === 'alert')
      .map((r) => [r.name, /severity: (\w+)/.exec(r.body)?.[1]]),
  );
  const expected: Record<string, string> = {
    RewarderErrorBudgetBurnFast: 'page',
    RewarderErrorBudgetBurnSlow: 'ticket',
    RewarderComputeLatencyHigh: 'page',
    RewarderLedgerErrors: 'page',
    RewarderRateLimitedShareHigh: 'ticket',
    RewarderWorkQueueHigh: 'ticket',
    RewarderLedgerDegraded: 'page',
    RewarderInvariantFailure: 'page',
    RewarderLedgerConflict: 'page',
    RewarderWorkerFailures: 'ticket',
  };
  for (const [name, sev] of Object.entries(expected)) assert.equal(severity.get(name), sev, name);
});

test('every metric the rules read is exported by the service (or named as external)', async () => {
  const exported = await exportedNames();
  const all = rules(rulesText);
  const recorded = new Set(all.filter((r) => r.kind === 'record').map((r) => r.name));
  const unknown: string[] = [];
  for (const r of all) {
    for (const name of metricNames(exprOf(r.body))) {
      if (name.includes(':')) {
        if (!recorded.has(name)) unknown.push(`${r.name}: recording rule ${name} is not defined`);
      } else if (!exported.has(name) && !EXTERNAL.has(name)) unknown.push(`${r.name}: ${name}`);
    }
  }
  assert.deepEqual(unknown, []);
  // The extraction itself sees what it should.
  assert.deepEqual(metricNames('sum by (job, le) (rate(reward_compute_latency_seconds_bucket{job="x",le="1"}[5m])) > 0.8 * foo:bar'), [
    'reward_compute_latency_seconds_bucket',
    'foo:bar',
  ]);
});
