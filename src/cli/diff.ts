// `rewarder diff A.json B.json [--top N] [--csv]`: what changes from manifest A to manifest B
// (src/core/compare.ts), as canonical JSON, or every paid actor's amounts as CSV.

import { canonicalBytes } from '../core/jcs.js';
import { type ComparedManifest, compare, comparedManifest, deltasCsv, payoutDeltas } from '../core/compare.js';
import { parseStrictJson } from '../core/json/parse.js';
import { formatDocError } from '../core/result.js';
import { CliError, args, readInput, writeStdout } from './io.js';

function load(file: string): ComparedManifest {
  const parsed = parseStrictJson(readInput(file));
  if (!parsed.ok) throw new CliError(`${file}: ${formatDocError(parsed.error)}`);
  const m = comparedManifest(parsed.value);
  if (typeof m === 'string') throw new CliError(`${file}: ${m}`);
  return m;
}

export function topOption(v: string | undefined): number {
  if (v === undefined) return 10;
  if (!/^[0-9]{1,6}$/.test(v)) throw new CliError('--top must be an integer from 0 to 999999');
  return Number(v);
}

export function diffCmd(argv: string[]): number {
  const { values, positionals } = args(argv, { top: { type: 'string' }, csv: { type: 'boolean' } }, 2);
  const [fa, fb] = positionals as [string, string];
  const top = topOption(values.top);
  const a = load(fa);
  const b = load(fb);
  if (values.csv === true) writeStdout(new TextEncoder().encode(deltasCsv(payoutDeltas(a, b))));
  else writeStdout(canonicalBytes(compare(a, b, top)));
  return 0;
}
