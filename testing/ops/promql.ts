// PromQL helpers shared by the alert-rule and dashboard tests: which metric names an expression
// reads, and which series the service exports.
import { createMetrics } from '../../src/metrics.js';

const PROMQL_WORDS = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring ' +
    'group_left group_right and or unless offset bool rate irate increase delta idelta deriv histogram_quantile ' +
    'absent absent_over_time abs ceil floor round clamp clamp_min clamp_max vector scalar time label_replace ' +
    'label_join max_over_time min_over_time avg_over_time sum_over_time count_over_time last_over_time ' +
    'predict_linear resets changes sort sort_desc inf nan label_values'
  ).split(' '),
);

/** Metric names read by a PromQL expression (label matchers, ranges and grouping lists removed). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\blabel_values\(([^,)]*),\s*[A-Za-z_]\w*\s*\)/g, ' $1 ') // Grafana's label_values(metric, label)
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?[smhdwy]?\b/gi, ' ');
  const ids = stripped.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? [];
  return [...new Set(ids.filter((id) => !PROMQL_WORDS.has(id.toLowerCase())))];
}

/** Every series name the service exports (its own metrics and prom-client's defaults). */
export async function exportedNames(): Promise<Set<string>> {
  const m = createMetrics({ queueDepth: () => 0, inflight: () => 0, cacheBytes: () => 0, heldIntents: async () => 0, ledgerDegraded: () => false });
  const names = new Set<string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(`${metric.name}${s}`);
    if (String(metric.type) === 'summary') for (const s of ['_count', '_sum']) names.add(`${metric.name}${s}`);
  }
  return names;
}
