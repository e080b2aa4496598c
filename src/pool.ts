// The one owner of the Piscina pool. It admits tasks (queue bound, circuit breaker), runs them with
// an abort signal, and translates every pool failure into the error taxonomy here, so no route
// needs to know how a worker can die.
//
// The queue is kept here, not in Piscina: WORK_QUEUE_MAX must be reloadable (Piscina's maxQueue is
// fixed at construction) and must stay FIFO within each tenant (see pump()); tenants are served in
// turn and what is shed is decided by src/admission.ts. A task whose signal aborts while running is
// answered at once, but keeps its worker for a grace period (abortGraceMs) to end by itself; only
// then does Piscina terminate that worker and start a fresh one: that is how a hung task is stopped.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { ComputeResult, ComputeTask, ExplainBasisResult, ExplainBasisTask, ExportResult, ExportTask, PreviewResult, PreviewTask, ProofIndexResult, ProofIndexTask, SealResult, SealTask, Task } from './compute/protocol.js';
import { DrainMeter, TenantQueues, checkQueue, pushedOut } from './admission.js';
import { AppError } from './errors.js';
import { newClock, readClock, started, withdraw } from './compute/clock.js';

export interface PoolOptions {
  threads: number;
  queueMax: number;
  /** Most tasks one tenant may have waiting (default: queueMax); beyond: 429 tenant_share. */
  tenantQueueMax?: number;
  /** Hand each worker its next task before the current one ends (default true; see HANDED_PER_THREAD). */
  handover?: boolean;
  /**
   * Anticipation for interactive tenants (default 0: off): when a tenant's last task ends with
   * nothing more of its own waiting, while others wait, and that tenant's recent think time (its
   * task ending → its next task arriving) was at most this many ms, the worker is kept for it up
   * to this long instead of starting another tenant's task (see reserveFor).
   */
  anticipateMs?: number;
  /** Compiled worker module; tests pass a fault-injecting one. */
  filename?: string;
  /** Worker crashes within `breakerWindowMs` that open the breaker. */
  breakerThreshold?: number;
  breakerWindowMs?: number;
  /**
   * How long a running task whose request was aborted (client gone, deadline passed) may still run
   * before its worker is terminated; default 1000 ms. A termination costs a new thread and a cold
   * JIT for the tasks after it (and a client that disconnects on purpose could cause one per
   * request), while a normal task ends well within this (an M run takes ~10 ms, an L run ~0.3 s);
   * its result is then dropped. A hung task is stopped when the grace ends.
   */
  abortGraceMs?: number;
  now?: () => number;
}

export interface Saturation {
  threads: number;
  queueDepth: number;
  queueMax: number;
  running: number;
  breakerOpenForMs: number;
  /** Tasks finished per second lately (null: none finished in the window). */
  drainPerSec: number | null;
  /** Tenants with tasks waiting. */
  tenants: number;
}

interface Waiting {
  tenant: string;
  task: Task;
  /** The clock of its current hand-over to a worker (a fresh one each time it is handed out). */
  clock: SharedArrayBuffer;
  signal: AbortSignal;
  transferList: ArrayBuffer[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onAbort: () => void;
  /** Its start tag and cost in the tenants' fair queueing, once handed out (to requeue it). */
  start: number;
  cost: number;
  /** While handed out: stops listening for the caller's abort as a handed-out task. */
  detach: () => void;
  /** Handed out again once already (its worker died before reaching it): not a second time. */
  requeued: boolean;
}

/**
 * Tasks handed to Piscina per thread: the running one and the next, so that a worker finishing
 * a task starts the next at once instead of waiting for the edge's event loop to notice (under a
 * storm of requests that wait left the worker idle half the time with tasks queued). A third
 * place lets a withdrawn task (skipped by the worker when it reaches it) be replaced at once.
 */
const HANDED_PER_THREAD = 2;
/** The clock of a task not handed out yet. */
const NO_CLOCK = new SharedArrayBuffer(16);
const PISCINA_PER_THREAD = 3;

export type FailureKind = 'crash' | 'abort' | 'error';

const DEFAULT_WORKER = fileURLToPath(new URL('../workers/compute.js', import.meta.url));

export class ComputePool {
  private readonly piscina: Piscina;
  private queueMax: number;
  private tenantQueueMax: number | undefined;
  private readonly drain: DrainMeter;
  private readonly threads: number;
  private readonly now: () => number;
  private readonly breakerThreshold: number;
  private readonly breakerWindowMs: number;
  private readonly abortGraceMs: number;
  private failures: number[] = [];
  private openUntil = 0;
  private backoffMs = 1000;
  /** Tasks handed to Piscina and not withdrawn, until they end (running, or next in line on a worker). */
  private readonly handed = new Set<Waiting>();
  private readonly anticipateMs: number;
  /** Per tenant: when its last task ended with nothing of its own left, and its mean think time. */
  private readonly doneAt = new Map<string, number>();
  private readonly think = new Map<string, number>();
  /** A worker kept for an interactive tenant's next task until `until` (see reserveFor). */
  private reserved: { tenant: string; until: number; timer: NodeJS.Timeout } | undefined;
  /** When the last task ended, and whether every thread had work then (see timeTask). */
  private lastDoneMs: number | undefined;
  private backlogged = false;
  /** Tasks in Piscina, withdrawn ones included until the worker skips them. */
  private inPiscina = 0;
  /** Tasks handed to Piscina per thread: HANDED_PER_THREAD, or 1 without hand-over. */
  private readonly perThread: number;
  private readonly waiting = new TenantQueues<Waiting>();
  /** Handed-out tasks per tenant (see TenantQueues.shift: one per tenant while others wait). */
  private readonly runningOf = new Map<string, number>();
  private readonly busy = (tenant: string): boolean => (this.runningOf.get(tenant) ?? 0) > 0;
  /** Running tasks whose request was aborted and whose grace period is still running. */
  private readonly graces = new Set<AbortController>();
  private started = false;
  /** Errors that killed a worker thread (its 'error' event), as opposed to a task that threw. */
  private readonly fatalErrors = new WeakSet<object>();
  private readonly watched = new WeakSet<object>();
  onFailure: (kind: FailureKind) => void = () => {};
  /** A task refused before it was queued (for rejected_total{reason}). */
  onReject: (reason: 'queue_full' | 'breaker_open' | 'tenant_share') => void = () => {};

  constructor(opts: PoolOptions) {
    this.threads = opts.threads;
    this.queueMax = opts.queueMax;
    this.tenantQueueMax = opts.tenantQueueMax;
    this.drain = new DrainMeter(opts.threads);
    this.perThread = opts.handover === false ? 1 : HANDED_PER_THREAD;
    this.anticipateMs = opts.anticipateMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.breakerThreshold = opts.breakerThreshold ?? 5;
    this.breakerWindowMs = opts.breakerWindowMs ?? 30_000;
    this.abortGraceMs = opts.abortGraceMs ?? 1_000;
    this.piscina = new Piscina({
      filename: opts.filename ?? DEFAULT_WORKER,
      minThreads: opts.threads,
      maxThreads: opts.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: PISCINA_PER_THREAD,
      recordTiming: false,
    });
    // An uncaught error in an idle worker: Piscina replaces the worker; count it, don't crash.
    this.piscina.on('error', () => this.recordFailure('crash'));
    // An uncaught (asynchronous) exception kills the thread, and Piscina rejects the running task
    // with that very Error, whose message says nothing of a death. Remember the object so
    // translate() answers it as the worker failure it is. Every worker is announced by
    // 'workerCreate' before it is given a task.
    this.piscina.on('workerCreate', () => {
      for (const worker of this.piscina.threads) {
        if (this.watched.has(worker)) continue;
        this.watched.add(worker);
        worker.on('error', (err: unknown) => {
          if (typeof err === 'object' && err !== null) this.fatalErrors.add(err);
        });
      }
    });
  }

  /** Resolves once a trivial task round-trips, i.e. a worker has loaded the core. */
  async start(): Promise<void> {
    const probe: SealTask = {
      op: 'seal',
      bytes: new TextEncoder().encode('{"schema":"rewarder.policy/v1","id":"probe","rounding":"floor","kinds":{}}'),
      limits: { inputs: { maxBytes: 1, maxActors: 1, maxEvents: 1 }, policyMaxBytes: 1024 },
      expect: 'rewarder.policy/v1',
    };
    await this.piscina.run(probe);
    this.started = true;
  }

  get isStarted(): boolean {
    return this.started;
  }

  setQueueMax(n: number, tenantQueueMax?: number): void {
    this.queueMax = n;
    this.tenantQueueMax = tenantQueueMax;
  }

  /** Tasks `tenant` has waiting now. */
  queuedFor(tenant: string): number {
    return this.waiting.sizeOf(tenant);
  }

  /**
   * What a new task of `tenant` would wait now: the tasks handed out before it (fair queueing,
   * see admission.ts), one more if every thread is busy, and their expected time from the
   * measured time per task (null before any task finished).
   */
  expectedWait(tenant: string): { ahead: number; ms: number | null; drainPerSec: number | null; threads: number } {
    // Every task handed to a worker ends before this one starts (a conservative count: a
    // next-in-line task may yet be withdrawn for it).
    const ahead = this.waiting.aheadOf(tenant) + (this.handed.size >= this.threads ? this.handed.size - this.threads + 1 : 0);
    const per = this.drain.taskMs();
    return { ahead, ms: per === null ? null : (ahead * per) / this.threads, drainPerSec: this.drain.perSecond(), threads: this.threads };
  }

  saturation(): Saturation {
    return {
      threads: this.threads,
      queueDepth: this.waiting.size + this.nextInLine(),
      queueMax: this.queueMax,
      running: Math.min(this.handed.size, this.threads),
      breakerOpenForMs: Math.max(0, this.openUntil - this.now()),
      drainPerSec: this.drain.perSecond(),
      tenants: this.waiting.tenants,
    };
  }

  /** `tenant`: whose queue the task waits in (see admission.ts). */
  seal(task: SealTask, signal: AbortSignal, tenant = 'anonymous'): Promise<SealResult> {
    // A spooled body is read from its file by the worker: nothing is moved (and the task can be
    // handed out again, like any task that moved nothing).
    return this.run(task, signal, task.file === undefined ? [task.bytes.buffer as ArrayBuffer] : [], tenant);
  }

  /** `costMs`: the task's estimated compute time, its weight in the tenants' fair queueing. */
  compute(task: ComputeTask, signal: AbortSignal, tenant = 'anonymous', costMs?: number): Promise<ComputeResult> {
    return this.run(task, signal, [], tenant, costMs);
  }

  /** Builds a published manifest's proof index; the manifest's buffer is transferred. */
  proofIndex(task: ProofIndexTask, signal: AbortSignal, tenant = 'anonymous'): Promise<ProofIndexResult> {
    return this.run(task, signal, [task.manifest.buffer as ArrayBuffer], tenant);
  }

  exportManifest(task: ExportTask, signal: AbortSignal, tenant = 'anonymous'): Promise<ExportResult> {
    return this.run(task, signal, [task.manifest.buffer as ArrayBuffer], tenant);
  }

  /** Builds the per-run part of a published run's explanations (src/core/explain.ts). */
  explainBasis(task: ExplainBasisTask, signal: AbortSignal, tenant = 'anonymous'): Promise<ExplainBasisResult> {
    return this.run(task, signal, [], tenant);
  }

  /** Computes a candidate without binding and compares it with the bound run (manifest bytes transferred, a basis shared). */
  preview(task: PreviewTask, signal: AbortSignal, tenant = 'anonymous'): Promise<PreviewResult> {
    return this.run(task, signal, task.bound instanceof Uint8Array ? [task.bound.buffer as ArrayBuffer] : [], tenant);
  }

  private async run<T>(task: Task, signal: AbortSignal, transferList: ArrayBuffer[], tenant: string, costMs?: number): Promise<T> {
    const openFor = this.openUntil - this.now();
    if (openFor > 0) {
      this.onReject('breaker_open');
      throw new AppError(
        'UNAVAILABLE',
        'compute workers are failing; retry later',
        { reason: 'breaker_open', retry_after_ms: openFor },
        { 'Retry-After': String(Math.ceil(openFor / 1000)) },
      );
    }
    let evict: string | undefined;
    const drain = this.drain.perSecond();
    try {
      evict = checkQueue(this.waiting, tenant, { queueMax: this.queueMax, tenantQueueMax: this.tenantQueueMax ?? this.queueMax, threads: this.threads }, drain, this.nextInLine());
    } catch (e) {
      if (e instanceof AppError) this.onReject(e.details.reason === 'tenant_share' ? 'tenant_share' : 'queue_full');
      throw e;
    }
    if (evict !== undefined) {
      const out = this.waiting.newest(evict);
      if (out !== undefined && this.waiting.remove(evict, out)) {
        out.signal.removeEventListener('abort', out.onAbort);
        this.onReject('tenant_share');
        out.reject(pushedOut(this.waiting.sizeOf(evict), drain, this.threads));
      }
    }
    if (signal.aborted) throw signal.reason;
    const done = new Promise<unknown>((resolve, reject) => {
      const entry: Waiting = { tenant, task, clock: NO_CLOCK, signal, transferList, resolve, reject, onAbort: () => {}, start: 0, cost: 0, detach: () => {}, requeued: false };
      // Aborted while still waiting: leave the queue; nothing ever reached a worker.
      entry.onAbort = () => {
        if (this.waiting.remove(tenant, entry)) reject(signal.reason);
      };
      signal.addEventListener('abort', entry.onAbort, { once: true });
      // Unpriced tasks (seals, indexes…) weigh what an average task takes.
      const start = this.waiting.startOf(tenant);
      this.noteArrival(tenant);
      this.waiting.push(tenant, entry, costMs ?? this.drain.taskMs() ?? 1);
      this.makeWayFor(tenant, start);
      this.pump();
    });
    return (await done) as T;
  }

  /**
   * Learns the time per task from a task that ran (`ms`: as the worker timed it). While the
   * workers are kept busy (at the previous completion there was already work for every thread),
   * the interval between completions × threads is what each task really cost the queue: the run
   * plus what the worker time leaves out (cloning the task in and the result out, a few ms at M).
   * Otherwise, the worker's own time.
   */
  private timeTask(ms: number): void {
    const now = performance.now();
    this.drain.record(this.backlogged && this.lastDoneMs !== undefined ? (now - this.lastDoneMs) * this.threads : ms);
    this.lastDoneMs = now;
    this.backlogged = this.handed.size + this.waiting.size >= this.threads;
  }

  /** Whether `tenant` re-sends quickly enough to be worth keeping a worker for (see anticipateMs). */
  private interactive(tenant: string): boolean {
    const t = this.think.get(tenant);
    return this.anticipateMs > 0 && t !== undefined && t <= this.anticipateMs;
  }

  /** A task of `tenant` arrives: its think time, if its previous task ended with nothing left. */
  private noteArrival(tenant: string): void {
    if (this.anticipateMs <= 0) return;
    const done = this.doneAt.get(tenant);
    if (done !== undefined) {
      this.doneAt.delete(tenant);
      const ms = performance.now() - done;
      const t = this.think.get(tenant);
      this.think.set(tenant, t === undefined ? ms : 0.7 * t + 0.3 * ms);
    }
    // A reservation for this tenant stays until pump() hands its task out (first).
  }

  /**
   * Anticipatory scheduling (as in disk schedulers): a tenant that re-sends its next task a moment
   * after its last one ends would otherwise always find another tenant's task just started
   * (non-preemptive workers) and wait a whole task each time. When an interactive tenant's task
   * ends with nothing of its own left while others wait, and its next task would lead in fair
   * queueing (it is within its share), the worker is kept for it up to anticipateMs; its next
   * task, if it comes, goes first.
   */
  private reserveFor(tenant: string): void {
    if (this.anticipateMs <= 0 || this.waiting.sizeOf(tenant) > 0 || this.busy(tenant)) return;
    this.doneAt.set(tenant, performance.now());
    if (this.doneAt.size > 4096) this.doneAt.delete(this.doneAt.keys().next().value as string);
    // Only within its share: a next task that fair queueing would put behind another tenant's
    // waiting task gets no worker kept for it (else a tenant re-sending at once takes it all).
    if (this.waiting.size === 0 || !this.interactive(tenant) || this.reserved !== undefined || !this.waiting.wouldLead(tenant)) return;
    const timer = setTimeout(() => {
      this.reserved = undefined;
      this.pump();
    }, this.anticipateMs);
    // Not unref'd: tasks wait on it (a few ms at most).
    this.reserved = { tenant, until: performance.now() + this.anticipateMs, timer };
  }

  private unreserve(): void {
    if (this.reserved === undefined) return;
    clearTimeout(this.reserved.timer);
    this.reserved = undefined;
  }

  /** Handed-out tasks beyond one per thread: next in line on a worker, not started. */
  private nextInLine(): number {
    return Math.max(0, this.handed.size - this.threads);
  }

  /**
   * A tenant with nothing handed out just queued a task (start tag `start`): a task of another tenant handed to a
   * worker as its next (not started) and not ahead of it in fair queueing is withdrawn and
   * requeued in its place, so the newcomer waits for the running task only. Only tasks that moved
   * no buffers to the worker can be handed out again.
   */
  private makeWayFor(tenant: string, start: number): void {
    if (this.busy(tenant) || this.inPiscina >= this.threads * PISCINA_PER_THREAD) return;
    let victim: Waiting | undefined;
    for (const h of this.handed) {
      if (h.tenant === tenant || h.transferList.length > 0 || h.start < start || started(h.clock)) continue;
      if (victim === undefined || h.start > victim.start) victim = h;
    }
    if (victim === undefined || !withdraw(victim.clock)) return;
    victim.detach();
    this.release(victim);
    this.waiting.requeue(victim.tenant, victim, victim.start, victim.cost);
    victim.signal.addEventListener('abort', victim.onAbort, { once: true });
  }

  /** Whether a handed-out task belongs to an interactive tenant with nothing else waiting. */
  private interactiveRunning(): boolean {
    if (this.anticipateMs <= 0) return false;
    for (const h of this.handed) if (this.waiting.sizeOf(h.tenant) === 0 && this.interactive(h.tenant) && this.waiting.wouldLead(h.tenant)) return true;
    return false;
  }

  /** `e` no longer counts as handed out (ended, withdrawn, or given back). */
  private release(e: Waiting): void {
    if (!this.handed.delete(e)) return;
    const mine = (this.runningOf.get(e.tenant) ?? 1) - 1;
    if (mine <= 0) this.runningOf.delete(e.tenant);
    else this.runningOf.set(e.tenant, mine);
  }

  /**
   * Hands waiting tasks to Piscina (by fair queueing, see admission.ts) while a thread has room:
   * the running task and the next one per thread. Piscina's own queue is not FIFO for tasks that
   * carry an AbortSignal (it re-queues them behind newer ones), which under load left some
   * requests waiting until their deadline; keeping the queue here makes order and queue_depth exact.
   */
  private pump(): void {
    while (this.handed.size < this.threads * this.perThread && this.inPiscina < this.threads * PISCINA_PER_THREAD && this.waiting.size > 0) {
      const r = this.reserved;
      // A worker kept for an interactive tenant: only its task may go (first), or none till then.
      if (r !== undefined && this.waiting.sizeOf(r.tenant) === 0 && this.handed.size >= this.threads - 1) return;
      // No next-in-line behind an interactive tenant's running task: it may want the worker next.
      if (this.handed.size >= this.threads && this.interactiveRunning()) return;
      // A task for an idle thread starts now; a next-in-line one only when the current one ends.
      const starts = this.handed.size < this.threads;
      const next = (r !== undefined && this.waiting.sizeOf(r.tenant) > 0 ? this.waiting.shiftTagged((t) => t !== r.tenant, starts) : this.waiting.shiftTagged(this.busy, starts)) as { item: Waiting; start: number; cost: number };
      if (r !== undefined) this.unreserve();
      const e = next.item;
      e.start = next.start;
      e.cost = next.cost;
      e.signal.removeEventListener('abort', e.onAbort);
      this.handed.add(e);
      this.inPiscina++;
      this.runningOf.set(e.tenant, (this.runningOf.get(e.tenant) ?? 0) + 1);
      // A fresh clock per hand-over: a withdrawn task's old clock stays withdrawn for the copy
      // the worker will skip, and everything below acts only for the current hand-over.
      const clock = newClock();
      e.clock = clock;
      const task = { ...e.task, clock };
      // The caller's abort answers the caller at once. A task not yet started is withdrawn (the
      // worker skips it); a running one keeps its worker for the grace period, and Piscina's own
      // signal fires only if it is still running then (its result, if it comes, is dropped).
      const stop = new AbortController();
      let grace: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        e.reject(e.signal.reason);
        if (withdraw(clock)) {
          this.release(e);
          this.pump();
          return;
        }
        this.graces.add(stop);
        grace = setTimeout(() => stop.abort(e.signal.reason), this.abortGraceMs);
      };
      e.signal.addEventListener('abort', onAbort, { once: true });
      e.detach = () => e.signal.removeEventListener('abort', onAbort);
      void this.piscina
        .run(task, { signal: stop.signal, transferList: e.transferList })
        .then(
          (result: unknown) => {
            if (!started(clock)) return; // withdrawn: skipped by the worker, requeued or answered already
            this.backoffMs = 1000;
            e.resolve(result);
          },
          (err: unknown) => {
            if (started(clock) || stop.signal.aborted) {
              e.reject(this.translate(err, stop.signal));
              return;
            }
            // Never started: withdrawn (answered or requeued already, maybe handed out again), or
            // its worker died (or was stopped for another task) before reaching it, which is not
            // this task's fault.
            if (e.clock !== clock || !this.handed.has(e) || !withdraw(clock)) return;
            e.detach();
            this.release(e);
            if (e.transferList.length === 0 && !e.signal.aborted && !e.requeued) {
              // Nothing was moved to the dead worker: handed out again, in its place.
              e.requeued = true;
              this.waiting.requeue(e.tenant, e, e.start, e.cost);
              e.signal.addEventListener('abort', e.onAbort, { once: true });
            } else {
              e.reject(new AppError('UNAVAILABLE', 'the compute worker failed; retry', { reason: 'worker_failed' }, { 'Retry-After': '1' }));
            }
          },
        )
        .finally(() => {
          const ms = readClock(clock);
          clearTimeout(grace);
          this.graces.delete(stop);
          e.signal.removeEventListener('abort', onAbort);
          if (e.clock === clock && started(clock)) this.release(e);
          // The next-in-line tasks have started (or start now): the virtual time follows them.
          for (const h of this.handed) this.waiting.advance(h.start);
          if (ms !== null) {
            this.timeTask(ms);
            this.reserveFor(e.tenant);
          }
          this.inPiscina--;
          this.pump();
        });
    }
  }

  /** Maps what Piscina rejects with onto the taxonomy; the caller decides on deadline details. */
  private translate(e: unknown, signal: AbortSignal): unknown {
    if (signal.aborted) {
      // The grace period after the request's abort (deadline, or a client that went away) ended
      // with the task still running, and Piscina terminated its worker: that is how a hung task is
      // stopped. Not a worker fault, so it does not count against the breaker.
      this.onFailure('abort');
      return signal.reason instanceof AppError ? signal.reason : e;
    }
    const message = e instanceof Error ? e.message : String(e);
    const died = typeof e === 'object' && e !== null && this.fatalErrors.has(e);
    if (died || /terminated|exited|worker.*(died|exit)/i.test(message)) {
      this.recordFailure('crash');
      return new AppError('UNAVAILABLE', 'the compute worker failed; retry', { reason: 'worker_failed' }, { 'Retry-After': '1' });
    }
    // The worker function threw: a bug in the core, not the client's fault. The worker lives on.
    this.onFailure('error');
    return e;
  }

  private recordFailure(kind: FailureKind): void {
    this.onFailure(kind);
    const now = this.now();
    this.failures = this.failures.filter((t) => now - t < this.breakerWindowMs);
    this.failures.push(now);
    if (this.failures.length >= this.breakerThreshold) {
      // Open, and back off longer each time it reopens without a success in between.
      this.openUntil = now + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      this.failures = [];
    }
  }

  async close(): Promise<void> {
    // Piscina's close waits for running tasks: a task already given up on (its grace running)
    // would hold the shutdown until the grace ends, or for ever with a hung task whose timer
    // was not reached yet. Stop them now.
    this.unreserve();
    for (const stop of this.graces) stop.abort(new Error('the pool is closing'));
    await this.piscina.close();
  }
}
