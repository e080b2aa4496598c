// `npm run bench:peer`: whole-process `rewarder compute` against a peer, DuckDB running the same
// calculus as one SQL query over the same JSON file (scripts/duckdb-peer.ts), in paired rounds
// (the order alternates per round), for each profile and scale. Every round checks that the peer's
// payees (actor, amount, score, in order) equal the manifest's, and stops with an error if they do
// not. A benchmark, not a test: it prints figures and a final JSON line; targets beside them.
//
//   node dist/scripts/bench-peer.js [--profile gen,token] [--scale M,L] [--form columnar|row] [--rounds 5] [--dir DIR]
//
// Documents are generated once into DIR (default: the system temp directory) by this script's own
// generator, the same bytes as `rewarder gen --profile P --scale S --seed 1 --form F`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile } from './bench-kit.js';
import type { Form, Scale } from '../src/gen/generate.js';
import { type Profile, generateProfile, isProfile } from '../src/gen/profiles.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/rewarder.js', import.meta.url));
const PEER = fileURLToPath(new URL('./duckdb-peer.js', import.meta.url));
const out = (line = '') => process.stdout.write(`${line}\n`);

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'gen,token' },
    scale: { type: 'string', default: 'M,L' },
    form: { type: 'string', default: 'columnar' },
    rounds: { type: 'string', default: '5' },
    dir: { type: 'string', default: join(tmpdir(), 'rewarder-bench-peer') },
  },
});
const profiles = values.profile.split(',') as Profile[];
for (const p of profiles) if (!isProfile(p)) throw new Error(`unknown profile ${p}`);
const scales = values.scale.split(',') as Scale[];
const form = values.form as Form;
const rounds = Math.max(1, Number(values.rounds));

/** Runs a process to its end; wall time from spawn to exit, and its stdout. */
function timed(args: string[]): Promise<{ ms: number; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${args.slice(-6).join(' ')} exited ${code}: ${err.trim()}`));
      else resolve({ ms, stdout: Buffer.concat(chunks) });
    });
  });
}

/** The peer's payees must equal the manifest's, in order. Returns the number compared. */
function agree(manifest: Buffer, peer: Buffer): number {
  const m = JSON.parse(manifest.toString('utf8')) as { payouts: { actor: string; amount_minor: string; score: string }[]; totals: { payout_minor: string } };
  const lines = peer.toString('utf8').trim().split('\n');
  const summary = JSON.parse(lines.pop() as string) as { payees: number; payout: string };
  if (summary.payout !== m.totals.payout_minor) throw new Error(`peer payout ${summary.payout} != manifest ${m.totals.payout_minor}`);
  if (lines.length !== m.payouts.length) throw new Error(`peer has ${lines.length} payees, the manifest ${m.payouts.length}`);
  lines.forEach((l, i) => {
    const [actor, amount, score] = JSON.parse(l) as [string, string, string];
    const p = m.payouts[i] as { actor: string; amount_minor: string; score: string };
    if (actor !== p.actor || amount !== p.amount_minor || score !== p.score) {
      throw new Error(`payee ${i} differs: peer ${l}, manifest ${JSON.stringify(p)}`);
    }
  });
  return lines.length;
}

const median = (xs: number[]) => percentile(xs, 50);
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));

async function main(): Promise<void> {
  out(`bench-peer: node ${process.version}, ${availableParallelism()} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; form ${form}, ${rounds} paired rounds`);
  out(`ours: node ${BIN} compute --epoch peer --inputs F --policy P (its shebang flags passed too)`);
  out(`peer: node ${PEER} --inputs F --policy P --form ${form} (@duckdb/node-api, one SQL query)`);
  const summary: Record<string, unknown> = {};
  for (const profile of profiles) {
    for (const scale of scales) {
      const dir = join(values.dir, `${profile}-${scale}-${form}`);
      const inputs = join(dir, 'inputs.json');
      const policy = join(dir, 'policy.json');
      if (!existsSync(inputs) || !existsSync(policy)) {
        const g = generateProfile({ profile, scale, seed: 1, form });
        mkdirSync(dir, { recursive: true });
        writeFileSync(inputs, g.inputs);
        writeFileSync(policy, g.policy);
      }
      const ours = ['--no-lazy-feedback-allocation', '--max-semi-space-size=32', '--initial-old-space-size=128', BIN, 'compute', '--epoch', 'peer', '--inputs', inputs, '--policy', policy];
      const peer = [PEER, '--inputs', inputs, '--policy', policy, '--form', form];
      const mine: number[] = [];
      const theirs: number[] = [];
      const ratios: number[] = [];
      let payees = 0;
      for (let r = 0; r < rounds; r++) {
        const first = r % 2 === 0;
        const a = first ? await timed(ours) : undefined;
        const b = await timed(peer);
        const c = a ?? (await timed(ours));
        payees = agree(c.stdout, b.stdout);
        mine.push(c.ms);
        theirs.push(b.ms);
        ratios.push(c.ms / b.ms);
      }
      const key = `${profile}/${scale}`;
      const med = { ours_ms: median(mine), duckdb_ms: median(theirs), ratio: median(ratios) };
      out(`\n== ${key} ${form} (${payees} payees, agree in every round)`);
      out(`  ours   (ms): ${mine.map(fmt).join(' ')}  median ${fmt(med.ours_ms)}`);
      out(`  duckdb (ms): ${theirs.map(fmt).join(' ')}  median ${fmt(med.duckdb_ms)}`);
      out(`  ours/duckdb per round: ${ratios.map((x) => x.toFixed(3)).join(' ')}  median ${med.ratio.toFixed(3)}`);
      if (scale === 'L') out(`  target L whole process ≤ 0.25× DuckDB's: ${med.ratio.toFixed(3)} → ${med.ratio <= 0.25 ? 'met' : 'NOT met'}`);
      summary[key] = { form, payees, rounds: { ours_ms: mine, duckdb_ms: theirs, ratio: ratios }, median: med };
    }
  }
  out(`\n${JSON.stringify({ bench: 'peer', node: process.version, cores: availableParallelism(), load: loadavg(), results: summary })}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench-peer: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
