// Command-line flags of the stub process. Fault flags go through the same validator as the admin
// API, so a flag can never set a fault that PUT /admin/faults would refuse.

import { parseArgs } from 'node:util';
import { parseFaultsPatch, type FaultsPatch } from './faults.js';
import { LOOPBACK_HOSTS, type LedgerStubOptions } from './server.js';

export const USAGE = `usage: node dist/testing/ledger-stub/main.js [options]
  --port N                      listen port (default 0: any free port)
  --host H                      127.0.0.1 (default), ::1 or localhost; nothing else
  --seed N                      PRNG seed for every random fault choice (default: random, see /admin/stats)
  --token T                     require "Authorization: Bearer T" on POST /v1/intents
  --latency MIN-MAX | MS        uniform delay in ms before every intent answer
  --error-rate R                answer error-status (default 503) with probability R, recording nothing
  --error-status S              429 or 500-599
  --down                        answer 503 to every intent
  --hang                        read every intent and never answer
  --reset-after-commit-rate R   record a new part, then reset the socket, with probability R
  --canned-answer A              html-200, empty-202, empty-204, redirect-302, json-401 or json-422 to every intent, recording nothing
  --outage START-END            503 during [START, END) ms after start; repeatable
  --faults JSON                 any faults as in PUT /admin/faults; the flags above override it
  --exit-with-stdin             exit when stdin closes (the parent that spawned the stub died)`;

export interface CliOptions extends LedgerStubOptions {
  exitWithStdin: boolean;
}

/** Parses argv (without node and the script); throws an Error with a one-line message on bad input. */
export function parseCliArgs(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      token: { type: 'string' },
      latency: { type: 'string' },
      'error-rate': { type: 'string' },
      'error-status': { type: 'string' },
      down: { type: 'boolean' },
      hang: { type: 'boolean' },
      'reset-after-commit-rate': { type: 'string' },
      outage: { type: 'string', multiple: true },
      'canned-answer': { type: 'string' },
      faults: { type: 'string' },
      'exit-with-stdin': { type: 'boolean' },
    },
  });

  const host = values.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.includes(host)) throw new Error(`--host ${host}: only ${LOOPBACK_HOSTS.join(', ')} are allowed`);

  const patch: Record<string, unknown> = values.faults === undefined ? {} : { ...parseJsonObject(values.faults) };
  if (values.latency !== undefined) patch['latency_ms'] = range('--latency', values.latency, 'min', 'max');
  if (values['error-rate'] !== undefined) patch['error_rate'] = number('--error-rate', values['error-rate']);
  if (values['error-status'] !== undefined) patch['error_status'] = number('--error-status', values['error-status']);
  if (values.down) patch['down'] = true;
  if (values.hang) patch['hang'] = true;
  if (values['reset-after-commit-rate'] !== undefined) {
    patch['reset_after_commit_rate'] = number('--reset-after-commit-rate', values['reset-after-commit-rate']);
  }
  if (values['canned-answer'] !== undefined) patch['canned_answer'] = values['canned-answer'];
  if (values.outage !== undefined) {
    patch['outage_windows'] = values.outage.map((w) => range('--outage', w, 'start_ms', 'end_ms'));
  }
  const faults: FaultsPatch = parseFaultsPatch(patch);

  const opts: CliOptions = { host, faults, exitWithStdin: values['exit-with-stdin'] === true };
  if (values.port !== undefined) opts.port = integer('--port', values.port, 65_535);
  if (values.seed !== undefined) opts.seed = integer('--seed', values.seed, Number.MAX_SAFE_INTEGER);
  if (values.token !== undefined) opts.token = values.token;
  return opts;
}

function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('--faults: not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('--faults: expected a JSON object');
  return value as Record<string, unknown>;
}

/** "A-B" or a single "A" (meaning A-A). */
function range<L extends string, H extends string>(flag: string, text: string, lo: L, hi: H): Record<L | H, number> {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m?.[1]) throw new Error(`${flag} ${text}: expected MIN-MAX or a single number of milliseconds`);
  const a = Number(m[1]);
  return { [lo]: a, [hi]: m[2] === undefined ? a : Number(m[2]) } as Record<L | H, number>;
}

function number(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} ${text}: expected a number`);
  return n;
}

function integer(flag: string, text: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) > max) throw new Error(`${flag} ${text}: expected an integer from 0 to ${max}`);
  return Number(text);
}
