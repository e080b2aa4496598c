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
    throw new CliError((e as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
  if (parsed.positionals.length !== positionals) {
    throw new CliError(`expected ${positionals} argument(s), got ${parsed.positionals.length}`);
  }
  return parsed;
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
