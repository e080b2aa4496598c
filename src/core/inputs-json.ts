// Writes inputs as a `rewarder.inputs/v1` JSON document in either event form: the other half of
// `rewarder convert` (Arrow → JSON). Strings are written as RFC 8785 strings, numbers as plain
// digits, members in the order the generator uses; the bytes are a function of the data alone.

import type { ArrowSource } from './arrow/write.js';
import { canonicalString } from './jcs.js';

const encoder = new TextEncoder();

/** Joins pieces into bytes a slice at a time, so a large document is never one huge JS string. */
class Pieces {
  private readonly chunks: Uint8Array[] = [];
  private pending: string[] = [];
  private size = 0;

  push(s: string): void {
    this.pending.push(s);
    this.size += s.length;
    if (this.size > 1 << 22) this.flush();
  }
  private flush(): void {
    this.chunks.push(encoder.encode(this.pending.join('')));
    this.pending = [];
    this.size = 0;
  }
  bytes(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export function encodeInputsJson(src: ArrowSource, form: 'row' | 'columnar'): Uint8Array {
  const p = new Pieces();
  const names = (xs: readonly string[]) => `[${xs.map(canonicalString).join(',')}]`;
  p.push(
    `{"schema":"rewarder.inputs/v1","window":{"start_ms":${src.window.startMs},"end_ms":${src.window.endMs}},` +
      `"pool_minor":"${src.poolMinor}","kinds":${names(src.kinds)},"actors":`,
  );
  // Actors one by one: a million quoted ids joined at once would be one more huge string.
  p.push('[');
  src.actors.forEach((a, i) => p.push(i === 0 ? canonicalString(a) : `,${canonicalString(a)}`));
  p.push('],"events":');
  const ev = src.events;
  if (form === 'columnar') {
    const col = (name: string, c: ArrayLike<number>, last: boolean) => {
      p.push(`"${name}":[`);
      for (let i = 0; i < ev.count; i++) p.push(i === 0 ? String(c[i]) : `,${c[i]}`);
      p.push(last ? ']' : '],');
    };
    p.push('{');
    col('actor', ev.actor, false);
    col('kind', ev.kind, false);
    col('qty', ev.qty, false);
    col('ts', ev.ts, true);
    p.push('}}');
    return p.bytes();
  }
  const actorHead = src.actors.map((a) => `{"actor":${canonicalString(a)},"kind":`);
  const kindHead = src.kinds.map((k) => `${canonicalString(k)},"qty":`);
  p.push('[');
  for (let i = 0; i < ev.count; i++) {
    p.push(`${i === 0 ? '' : ','}${actorHead[ev.actor[i] as number]}${kindHead[ev.kind[i] as number]}${ev.qty[i]},"ts":${ev.ts[i]}}`);
  }
  p.push(']}');
  return p.bytes();
}
