// Audit log of authentication and rate-limit decisions, and (SPEC §10) of every seal, every compute
// and every read of a document or epoch with the epoch id and CIDs involved, one JSON object per
// line, one file per UTC day (`audit-YYYY-MM-DD.jsonl`, the day taken from the event's own `at`). Only the declared
// fields are written, so a caller cannot leak a token by passing a richer object.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export interface AuditEvent {
  kind: 'auth_ok' | 'auth_fail' | 'scope_denied' | 'rate_limited' | 'seal' | 'compute' | 'read';
  tenant?: string | undefined;
  route: string;
  corr_id: string;
  /** Keyed token fingerprint (tokenFingerprint), never the token. */
  token_fp?: string | undefined;
  /** ISO time. */
  at: string;
  /** seal, compute and read: what was stored or asked for (ids from the path or body, validated), and the answer's status. */
  epoch_id?: string | undefined;
  inputs_cid?: string | undefined;
  policy_hash?: string | undefined;
  program?: string | undefined;
  status?: number | undefined;
}

export interface AuditSink {
  /** False when every event is dropped: callers then skip building events (and fingerprints). */
  readonly enabled: boolean;
  write(e: AuditEvent): void;
  close(): Promise<void>;
}

/**
 * `off`: a sink that drops everything. `local`: appends to `${dir}/audit-YYYY-MM-DD.jsonl`
 * (creating `dir`). Write failures go to `onError` (default: a process warning) and never throw.
 */
export function openAuditSink(
  mode: 'off' | 'local',
  dir?: string,
  onError: (err: Error) => void = (err) => process.emitWarning(err),
): AuditSink {
  if (mode === 'off') return { enabled: false, write: () => {}, close: () => Promise.resolve() };
  if (dir === undefined || dir === '') throw new Error('audit sink "local" needs a directory');
  mkdirSync(dir, { recursive: true });
  return new DailyFileSink(dir, onError);
}

const DAY = /^(\d{4}-\d{2}-\d{2})T/;

class DailyFileSink implements AuditSink {
  readonly enabled = true;
  private day: string | undefined;
  private stream: WriteStream | undefined;
  private readonly closing = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly onError: (err: Error) => void,
  ) {}

  write(e: AuditEvent): void {
    if (this.closed) return;
    const line: AuditEvent = {
      kind: e.kind,
      tenant: e.tenant,
      route: e.route,
      corr_id: e.corr_id,
      token_fp: e.token_fp,
      at: e.at,
      epoch_id: e.epoch_id,
      inputs_cid: e.inputs_cid,
      policy_hash: e.policy_hash,
      program: e.program,
      status: e.status,
    };
    this.streamFor(DAY.exec(e.at)?.[1] ?? new Date().toISOString().slice(0, 10)).write(`${JSON.stringify(line)}\n`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.retire();
    await Promise.all(this.closing);
  }

  private streamFor(day: string): WriteStream {
    if (this.stream && this.day === day) return this.stream;
    this.retire();
    const stream = createWriteStream(join(this.dir, `audit-${day}.jsonl`), { flags: 'a' });
    stream.on('error', (err) => {
      this.onError(err);
      if (this.stream === stream) this.stream = undefined; // reopen on the next write
    });
    this.stream = stream;
    this.day = day;
    return stream;
  }

  /** Ends the current file; close() waits for every ended file to be flushed. */
  private retire(): void {
    const stream = this.stream;
    if (!stream) return;
    this.stream = undefined;
    const done = new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.end();
    });
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
  }
}
