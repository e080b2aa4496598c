// Every metric the service exports, declared once on a non-global registry (tests build many apps
// in one process). HTTP labels use route templates, never raw paths, so cardinality stays bounded.
// Point-in-time gauges are read from their owners in collect().

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GaugeSources {
  queueDepth: () => number;
  inflight: () => number;
  cacheBytes: () => number;
  heldIntents: () => Promise<number>;
  /** SPEC §13: parts waiting for their epoch's hold to end, and superseding epochs waiting for their basis. */
  waitingParts?: () => Promise<{ onHold: number; awaitingBasis: number }>;
  ledgerDegraded: () => boolean;
  /** WORK_QUEUE_MAX now (reloadable), so alerts can use queue_depth / max. */
  queueMax?: () => number;
  /**
   * The tenants of the tokens file (the only label values of per-tenant series, so their number
   * is bounded by that file) and the bytes each owns in sealed documents.
   */
  tenants?: () => readonly string[];
  tenantUsage?: () => Promise<Map<string, number>>;
  /** Bodies being received and the bytes they hold against the budget (http/intake.ts). */
  intake?: () => { bodies: number; bytes: number; budgetBytes: number };
  proofIndexBytes?: () => number;
  /** Bytes of the comparison bases kept for previews (src/preview-bases.ts). */
  previewBasisBytes?: () => number;
  /** The memory store's fill (null for PostgreSQL). */
  storeFill?: () => { bytes: number; maxBytes: number; pinnedBytes: number } | null;
  /** Micronode: bytes of evicted manifests spilled to the amnesia tmpfs. */
  spilledBytes?: () => number;
  /** Micronode: bytes of Arrow uploads spooled to the amnesia tmpfs (arriving, sealing or stored). */
  spooledBytes?: () => number;
}

/** The label of an unexpected ledger answer's status: a class, so a hostile ledger cannot add series. */
export function statusClass(status: number): '2xx' | '3xx' | '4xx' | 'other' {
  if (status >= 200 && status < 300) return '2xx';
  if (status >= 300 && status < 400) return '3xx';
  if (status >= 400 && status < 500) return '4xx';
  return 'other';
}

export type RejectReason =
  | 'rate_limited'
  | 'inflight'
  | 'queue_full'
  | 'breaker_open'
  | 'deadline_on_arrival'
  | 'deadline_estimate'
  | 'body_too_large'
  | 'unsupported_encoding'
  | 'shutting_down'
  | 'bodies_per_client'
  | 'bodies_total'
  | 'body_budget'
  | 'body_too_slow'
  | 'tenant_share'
  | 'queue_wait'
  | 'store_full';

export function createMetrics(sources: GaugeSources, opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  const m = {
    registry,
    computeLatency: new Histogram({
      name: 'reward_compute_latency_seconds',
      help: 'Time a compute task spent in a pool worker (decode, calculus, manifest)',
      buckets: seconds,
      registers: [registry],
    }),
    runs: new Counter({
      name: 'reward_runs_total',
      help: 'Compute requests by outcome',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    invariantFail: new Counter({
      name: 'reward_invariant_fail_total',
      help: 'Runs quarantined because an invariant of SPEC §4.9 did not hold',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'rejected_total',
      help: 'Requests refused before any work, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: seconds,
      registers: [registry],
    }),
    deadlineEnforced: new Counter({
      name: 'deadline_enforced_total',
      help: 'Requests answered 504 because of their deadline, by stage',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    deadlineExceededBy: new Histogram({
      name: 'deadline_exceeded_by_seconds',
      help: 'How far past its deadline a request was when it was refused or aborted',
      buckets: seconds,
      registers: [registry],
    }),
    deadlineRemaining: new Histogram({
      name: 'deadline_remaining_seconds',
      help: 'Time left before the deadline when a compute task was admitted',
      buckets: seconds,
      registers: [registry],
    }),
    cacheHits: new Counter({ name: 'inputs_cache_hits_total', help: 'Parsed inputs served from cache', registers: [registry] }),
    cacheMisses: new Counter({ name: 'inputs_cache_misses_total', help: 'Parsed inputs decoded anew', registers: [registry] }),
    workerFailures: new Counter({
      name: 'compute_worker_failures_total',
      help: 'Compute tasks lost to a worker crash, hang or abort',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    configReload: new Counter({
      name: 'config_reload_total',
      help: 'Configuration reloads by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'auth_failures_total',
      help: 'Requests refused by authentication or authorisation',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    ledgerIntents: new Counter({
      name: 'ledger_intents_total',
      help: 'Ledger intent part sends by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    ledgerLatency: new Histogram({
      name: 'ledger_egress_latency_seconds',
      help: 'Time to get a ledger acknowledgement for a part, retries included',
      buckets: seconds,
      registers: [registry],
    }),
    ledgerErrors: new Counter({
      name: 'ledger_egress_errors_total',
      help: 'Ledger sends that ended without an acknowledgement (unknown, refused or conflict)',
      registers: [registry],
    }),
    tenantComputes: new Counter({
      name: 'tenant_computes_total',
      help: 'Compute requests per tenant (of the tokens file) by HTTP status class',
      labelNames: ['tenant', 'status'] as const,
      registers: [registry],
    }),
    tenantRefusals: new Counter({
      name: 'tenant_refusals_total',
      help: 'Tenancy refusals per tenant: window_overlap, pool_over_budget, tenant_quota',
      labelNames: ['tenant', 'reason'] as const,
      registers: [registry],
    }),
    storeEvictions: new Counter({
      name: 'store_evictions_total',
      help: 'Memory store evictions under its retention budget: settled manifests, then unneeded documents',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    ledgerConflicts: new Counter({
      name: 'ledger_conflicts_total',
      help: 'Parts the ledger reported as conflicting (same part_id, different body): always an alert',
      registers: [registry],
    }),
    ledgerUnexpected: new Counter({
      name: 'ledger_unexpected_answers_total',
      help: 'Ledger answers that are not SPEC §7 answers (HTML 200, 202, 204, 3xx, 401/403/407, a non-JSON 4xx), by status class: retried, always an alert',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    ledgerRedriven: new Counter({
      name: 'ledger_redriven_parts_total',
      help: 'Failed ledger parts moved back to pending by an operator (POST /admin/ledger/redrive)',
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'ledger_held_intents',
    help: 'Ledger parts held while egress is degraded (quarantine-only mode)',
    registers: [registry],
    async collect() {
      this.set(await sources.heldIntents().catch(() => 0));
    },
  });
  new Gauge({
    name: 'ledger_waiting_parts',
    help: 'Not yet sendable (SPEC §13): on_hold parts until their epoch\'s hold ends; awaiting_basis superseding epochs until the chain they replace is answered',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const w = await (sources.waitingParts?.() ?? Promise.resolve({ onHold: 0, awaitingBasis: 0 })).catch(() => ({ onHold: 0, awaitingBasis: 0 }));
      this.set({ state: 'on_hold' }, w.onHold);
      this.set({ state: 'awaiting_basis' }, w.awaitingBasis);
    },
  });
  new Gauge({
    name: 'tenant_stored_bytes',
    help: 'Bytes of sealed documents each tenant owns (a document sealed by two tenants counts for both)',
    labelNames: ['tenant'] as const,
    registers: [registry],
    async collect() {
      const tenants = sources.tenants?.() ?? [];
      const usage = await (sources.tenantUsage?.() ?? Promise.resolve(new Map<string, number>())).catch(() => new Map<string, number>());
      this.reset();
      for (const tenant of tenants) this.set({ tenant }, usage.get(tenant) ?? 0);
    },
  });
  new Gauge({
    name: 'ledger_egress_degraded',
    help: '1 while ledger egress is degraded (quarantine-only mode), else 0',
    registers: [registry],
    collect() {
      this.set(sources.ledgerDegraded() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'rewarder_work_queue_max',
    help: 'WORK_QUEUE_MAX in force (reloadable)',
    registers: [registry],
    collect() {
      this.set(sources.queueMax?.() ?? 0);
    },
  });
  new Gauge({
    name: 'body_intake_bodies',
    help: 'Request bodies being received (not yet admitted to a compute slot)',
    registers: [registry],
    collect() {
      this.set(sources.intake?.().bodies ?? 0);
    },
  });
  new Gauge({
    name: 'body_intake_bytes',
    help: 'Bytes held by request bodies being received, against BODY_BYTES_BUDGET',
    registers: [registry],
    collect() {
      this.set(sources.intake?.().bytes ?? 0);
    },
  });
  for (const [name, help, pick] of [
    ['store_bytes', 'Bytes held by the memory store (manifests, documents, unsettled ledger parts)', 'bytes'],
    ['store_max_bytes', 'The memory store budget (MEMORY_STORE_MAX_BYTES)', 'maxBytes'],
    ['store_pinned_bytes', 'Memory store bytes that cannot be evicted (unsettled runs and the documents they need)', 'pinnedBytes'],
  ] as const) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(sources.storeFill?.()?.[pick] ?? 0);
      },
    });
  }
  new Gauge({
    name: 'store_spilled_bytes',
    help: 'Micronode: evicted manifests kept on the amnesia tmpfs (SPILL_MAX_BYTES), read back instead of recomputed',
    registers: [registry],
    collect() {
      this.set(sources.spilledBytes?.() ?? 0);
    },
  });
  new Gauge({
    name: 'inputs_spooled_bytes',
    help: 'Micronode: Arrow uploads written to the amnesia tmpfs as they arrive (INPUTS_SPOOL_MIN_BYTES): being received, sealed, or kept by the store',
    registers: [registry],
    collect() {
      this.set(sources.spooledBytes?.() ?? 0);
    },
  });
  new Gauge({
    name: 'proof_index_cache_bytes',
    help: 'Bytes held by the proof indexes of published epochs (PROOF_INDEX_CACHE_MAX_BYTES)',
    registers: [registry],
    collect() {
      this.set(sources.proofIndexBytes?.() ?? 0);
    },
  });
  new Gauge({
    name: 'preview_basis_cache_bytes',
    help: 'Bytes held by the comparison bases of bound runs kept for previews (PREVIEW_CACHE_MAX_BYTES)',
    registers: [registry],
    collect() {
      this.set(sources.previewBasisBytes?.() ?? 0);
    },
  });
  new Gauge({
    name: 'queue_depth',
    help: 'Compute tasks waiting for a pool worker',
    registers: [registry],
    collect() {
      this.set(sources.queueDepth());
    },
  });
  new Gauge({
    name: 'inflight_requests',
    help: 'HTTP requests being served',
    registers: [registry],
    collect() {
      this.set(sources.inflight());
    },
  });
  new Gauge({
    name: 'inputs_cache_bytes',
    help: 'Estimated bytes held by the parsed-inputs cache',
    registers: [registry],
    collect() {
      this.set(sources.cacheBytes());
    },
  });
  // Labelled counters exist only after their first increment; create the known series at 0 so
  // rate()/increase() in alerts see the very first event.
  for (const status of ['published', 'replayed', 'dry_run', 'conflict', 'quarantined', 'invalid', 'window_overlap', 'over_budget', 'superseded', 'already_superseded']) m.runs.inc({ status }, 0);
  for (const result of ['accepted', 'dup', 'conflict', 'error']) m.ledgerIntents.inc({ result }, 0);
  for (const status of ['2xx', '3xx', '4xx', 'other']) m.ledgerUnexpected.inc({ status }, 0);
  for (const kind of ['crash', 'abort', 'error']) m.workerFailures.inc({ kind }, 0);
  for (const kind of ['manifest', 'inputs', 'policy']) m.storeEvictions.inc({ kind }, 0);
  for (const result of ['success', 'failure']) m.configReload.inc({ result }, 0);
  const reasons: RejectReason[] = [
    'rate_limited', 'inflight', 'queue_full', 'breaker_open', 'deadline_on_arrival',
    'deadline_estimate', 'body_too_large', 'unsupported_encoding', 'shutting_down',
    'bodies_per_client', 'bodies_total', 'body_budget', 'body_too_slow', 'tenant_share', 'queue_wait', 'store_full',
  ];
  for (const reason of reasons) m.rejected.inc({ reason }, 0);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
