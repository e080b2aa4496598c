// Attestation system tests' own small kit: the real CLI as a child process (`bin/rewarder.js …`),
// key directories made by `rewarder keygen`, the example sealed and computed through a real server,
// an independent verification path (WebCrypto Ed25519, noble ML-DSA-65 with the SPEC §6 context),
// and a transcript of every byte the servers wrote and every response body received, so a test can
// check that no private key ever left its file.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { BIN, EXAMPLE, type Reply, ROOT, type SpawnedServer, get, post, put } from '../harness.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/rewarder.js ...args` with a clean environment; bounded. */
export function cli(args: string[], timeoutMs = 20_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface KeygenResult {
  /** `[ML-DSA-65 key id, Ed25519 key id]` as printed. */
  ids: string[];
  signing: string;
  public: string;
  stdout: string;
  /** Every textual form of the secret keys just written (base64, base64url, hex). */
  secrets: string[];
}

/** Runs `rewarder keygen --out dir` and reads back what it wrote. */
export async function keygen(dir: string): Promise<KeygenResult> {
  const r = await cli(['keygen', '--out', dir]);
  assert.equal(r.code, 0, `keygen failed: ${r.stderr}`);
  const ids = [...r.stdout.matchAll(/^(?:ML-DSA-65|Ed25519) (b3:[0-9a-f]{64})$/gm)].map((m) => m[1] as string);
  const signing = /^private (\S+)/m.exec(r.stdout)?.[1];
  const pub = /^public\s+(\S+)/m.exec(r.stdout)?.[1];
  assert.ok(signing !== undefined && pub !== undefined, `keygen output: ${r.stdout}`);
  return { ids, signing, public: pub, stdout: r.stdout, secrets: secretsOf(signing) };
}

/** The secret keys of a signing-*.json file in every encoding a careless log could use. */
export function secretsOf(file: string): string[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { keys: { secret_key: string }[] };
  return doc.keys.flatMap((k) => {
    const raw = Buffer.from(k.secret_key, 'base64');
    assert.ok(raw.length >= 32, 'a secret key of at least 32 bytes');
    return [k.secret_key, raw.toString('base64url'), raw.toString('hex')];
  });
}

export function signingFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^signing-.*\.json$/.test(n))
    .map((n) => join(dir, n));
}

/** Everything that came out of the service during a file's tests. */
export class Transcript {
  private readonly texts: string[] = [];

  reply(r: Reply): Reply {
    this.texts.push(r.text, JSON.stringify(r.headers));
    return r;
  }

  /** Every stdout line and all of stderr of a (stopped or running) server. */
  server(s: SpawnedServer): void {
    this.texts.push(s.logs.lines.map((l) => JSON.stringify(l)).join('\n'), s.stderr());
  }

  text(s: string): void {
    this.texts.push(s);
  }

  get bytes(): number {
    return this.texts.reduce((n, t) => n + t.length, 0);
  }

  /** The secrets (by prefix, for the message) found anywhere in the transcript. */
  leaks(secrets: readonly string[]): string[] {
    return secrets.filter((s) => this.texts.some((t) => t.includes(s))).map((s) => `${s.slice(0, 12)}…`);
  }
}

/** Seals the SPEC §9 example and computes it as `epoch`; returns the compute reply. */
export async function computeExample(url: string, epoch: string, tr?: Transcript): Promise<Reply> {
  const seen = (r: Reply) => (tr ? tr.reply(r) : r);
  const inputs = seen(await put(url, '/inputs', readFileSync(EXAMPLE.inputs)));
  assert.ok(inputs.status === 201 || inputs.status === 200, inputs.text);
  const policy = seen(await put(url, '/policies', readFileSync(EXAMPLE.policy)));
  assert.ok(policy.status === 201 || policy.status === 200, policy.text);
  const run = seen(
    await post(url, `/epochs/${epoch}/compute`, { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash }),
  );
  assert.equal(run.status, 200, run.text);
  return run;
}

export async function fetchOk(url: string, path: string, tr?: Transcript): Promise<Reply> {
  const r = await get(url, path);
  tr?.reply(r);
  assert.equal(r.status, 200, `GET ${path} → ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

export interface KeyEntry {
  alg: string;
  key_id: string;
  public_key: string;
  signing?: boolean;
}

export interface AttestationDoc {
  commitment: string;
  signatures: { alg: string; key_id: string; sig: string }[];
}

const CONTEXT = new TextEncoder().encode('rewarder.manifest.v1');

/**
 * Verifies an attestation without the service's code: the message and algorithms as SPEC §6
 * states them, Ed25519 through WebCrypto, ML-DSA-65 through noble with the context string.
 * Returns the algorithms that verified (both must, with keys of `keys`).
 */
export async function independentlyVerify(att: AttestationDoc, commitment: string, keys: readonly KeyEntry[]): Promise<string[]> {
  assert.equal(att.commitment, commitment);
  const msg = new TextEncoder().encode(`rewarder.attestation.v1:${commitment}`);
  const algs: string[] = [];
  for (const s of att.signatures) {
    const key = keys.find((k) => k.key_id === s.key_id && k.alg === s.alg);
    assert.ok(key !== undefined, `no published key ${s.key_id}`);
    const pub = Buffer.from(key.public_key, 'base64');
    const sig = Buffer.from(s.sig, 'base64');
    let ok: boolean;
    if (s.alg === 'Ed25519') {
      const k = await webcrypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
      ok = await webcrypto.subtle.verify({ name: 'Ed25519' }, k, sig, msg);
    } else if (s.alg === 'ML-DSA-65') {
      ok = ml_dsa65.verify(sig, msg, pub, { context: CONTEXT });
    } else {
      ok = false;
    }
    if (ok) algs.push(s.alg);
  }
  return algs.sort();
}

/** base64 text with one bit of its decoded byte `at` flipped (negative: from the end). */
export function flipByte(b64: string, at: number): string {
  const raw = Buffer.from(b64, 'base64');
  const i = at < 0 ? raw.length + at : at;
  raw[i] = (raw[i] as number) ^ 0x01;
  return raw.toString('base64');
}
