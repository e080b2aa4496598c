import { readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** A user-facing failure: printed as one line, exit code 2 unless said otherwise. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(`${path}: cannot read (${code})`);
  }
}

type Options = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export function args<O extends Options>(argv: string[], options: O, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const unknown = (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /option '([^']+)'/.exec((e as Error).message)?.[1] : undefined;
    if (unknown !== undefined) throw new CliError(unknownOption(unknown, Object.keys(options)));
    throw new CliError((e as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
  if (parsed.positionals.length !== positionals) {
    throw new CliError(`expected ${positionals} argument(s), got ${parsed.positionals.length}`);
  }
  return parsed;
}

/** `unknown option --input (did you mean --inputs?)`, or the valid options when none is close. */
export function unknownOption(given: string, valid: readonly string[]): string {
  const flags = valid.map((v) => `--${v}`);
  if (flags.length === 0) return `unknown option ${given} (this command takes no options)`;
  const near = closest(given, flags);
  return near !== null ? `unknown option ${given} (did you mean ${near}?)` : `unknown option ${given} (valid: ${flags.join(', ')})`;
}

/** The candidate nearest to `given` by edit distance, if it is a plausible typo (≤ 2 edits, or a prefix either way). */
export function closest(given: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(given) || given.startsWith(c) ? Math.min(1, editDistance(given, c)) : editDistance(given, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= 2 ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

export function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`--${name} is required`);
  return v;
}

/**
 * Writes bytes to stdout with write(2) on fd 1: `process.stdout` is a stream made on first use,
 * and making it loads tty/net machinery a cold `rewarder compute` otherwise never needs. A closed
 * pipe (`| head`) ends the output quietly; a non-blocking stdout that is full falls back to the
 * stream for the rest.
 */
export function writeStdout(bytes: Uint8Array): void {
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(1, bytes, off, bytes.length - off);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw e;
    process.stdout.write(bytes.subarray(off));
  }
}

/**
 * Ends the process the way every command ends: its exit code, or a CliError's one line on stderr,
 * or one line for a bug (exit 70). Shared by main.ts and the bundled `compute` entry (compute-main.ts).
 */
export function finish(run: Promise<number>): void {
  run.then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      if (e instanceof CliError) {
        process.stderr.write(`rewarder: ${e.message}\n`);
        process.exitCode = e.exitCode;
        return;
      }
      // A bug, not a user error: say so in one line and keep the detail for whoever debugs it.
      process.stderr.write(`rewarder: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      if (process.env.REWARDER_DEBUG === '1') console.error(e);
      process.exitCode = 70;
    },
  );
}
