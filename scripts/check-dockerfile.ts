// A Dockerfile linter for the few rules the image must keep, since no Docker engine (or hadolint)
// runs in CI: the final stage runs as a non-root user and has a HEALTHCHECK; every base image is
// pinned to an exact x.y.z version or a sha256 digest; no COPY/ADD brings in .env files, keys or
// certificates, and a whole-context copy is allowed only when .dockerignore keeps those out; no
// ENV/ARG bakes a token, secret, password or key into a layer.
//
//   node dist/scripts/check-dockerfile.js [Dockerfile] [--dockerignore FILE]
//
// prints one line per problem on stderr and exits 1, or prints `ok FILE` and exits 0.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, … */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface CheckOptions {
  /** Contents of the .dockerignore beside the Dockerfile (absent: no file). */
  dockerignore?: string;
}

/**
 * Splits a Dockerfile into instructions: honours the `# escape=` parser directive, joins line
 * continuations, drops comment and blank lines (also inside continuations, as BuildKit does) and
 * skips heredoc bodies (`RUN <<EOF … EOF`).
 */
export function parseDockerfile(text: string): Instruction[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let escape = '\\';
  let i = 0;
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  for (; i < lines.length; i++) {
    const d = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[i] ?? '');
    if (d === null) break;
    if (d[1]?.toLowerCase() === 'escape' && (d[2] === '`' || d[2] === '\\')) escape = d[2];
  }
  const out: Instruction[] = [];
  const isContinued = (s: string) => s.trimEnd().endsWith(escape);
  const stripEscape = (s: string) => s.trimEnd().slice(0, -1);
  for (; i < lines.length; i++) {
    const first = lines[i] ?? '';
    const trimmed = first.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const start = i + 1;
    let joined = '';
    let cur = first;
    while (isContinued(cur) && i + 1 < lines.length) {
      joined += `${stripEscape(cur)} `;
      i++;
      // Comment and empty lines inside a continuation are removed, the continuation goes on.
      while (i < lines.length && /^\s*(#.*)?$/.test(lines[i] ?? '')) i++;
      cur = lines[i] ?? '';
    }
    joined += isContinued(cur) ? stripEscape(cur) : cur;
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(joined);
    if (m === null) continue;
    const keyword = (m[1] ?? '').toUpperCase();
    const args = (m[2] ?? '').trim();
    out.push({ keyword, args, line: start });
    // Heredocs: the body lines up to each terminator belong to this instruction.
    if (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') {
      for (const h of args.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
        const dash = h[1] === '-';
        const word = h[3];
        while (i + 1 < lines.length) {
          i++;
          const body = lines[i] ?? '';
          if ((dash ? body.replace(/^\t+/, '') : body) === word) break;
        }
      }
    }
  }
  return out;
}

/** Shell-like words: quotes group, backslash escapes the next character. */
export function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let have = false;
  for (let k = 0; k < s.length; k++) {
    const ch = s[k] as string;
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && k + 1 < s.length) cur += s[++k];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      have = true;
    } else if (ch === '\\' && k + 1 < s.length) {
      cur += s[++k];
      have = true;
    } else if (/\s/.test(ch)) {
      if (have || cur !== '') out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
      have = true;
    }
  }
  if (have || cur !== '') out.push(cur);
  return out;
}

/** Arguments of a JSON-form instruction (`["a", "b"]`), or null for the shell form. */
function jsonArgs(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(args);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

/** Splits leading `--flag[=value]` options from the rest. */
function flagsAndRest(ws: string[]): { flags: Map<string, string>; rest: string[] } {
  const flags = new Map<string, string>();
  let k = 0;
  for (; k < ws.length; k++) {
    const w = ws[k] as string;
    if (!w.startsWith('--')) break;
    const eq = w.indexOf('=');
    flags.set(eq < 0 ? w.slice(2) : w.slice(2, eq), eq < 0 ? '' : w.slice(eq + 1));
  }
  return { flags, rest: ws.slice(k) };
}

/** Substitutes $NAME / ${NAME} / ${NAME:-default} from `vars`; unknown names stay as written. */
function substitute(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, a, def, b) => {
    const name = (a ?? b) as string;
    const v = vars.get(name);
    if (v !== undefined && v !== '') return v;
    if (typeof def === 'string') return def;
    return all;
  });
}

interface ImageRef {
  name: string;
  tag: string | null;
  digest: string | null;
}

export function parseImageRef(ref: string): ImageRef {
  let rest = ref;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  const slash = rest.lastIndexOf('/');
  if (colon > slash) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, tag: null, digest };
}

const EXACT_VERSION = /(^|[^0-9.])v?\d+\.\d+\.\d+(?![0-9])/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Why a base image reference is not pinned, or null when it is. */
export function unpinnedReason(ref: string): string | null {
  if (ref.toLowerCase() === 'scratch') return null;
  if (/\$/.test(ref)) return `base image ${ref} uses a build argument without a pinned default`;
  const r = parseImageRef(ref);
  if (r.digest !== null) return DIGEST.test(r.digest) ? null : `base image ${ref} has a malformed digest`;
  if (r.tag === null) return `base image ${ref} is not pinned (no tag means :latest): use an exact x.y.z tag or @sha256 digest`;
  if (r.tag === 'latest') return `base image ${ref} uses :latest: pin an exact x.y.z tag or @sha256 digest`;
  if (!EXACT_VERSION.test(r.tag)) return `base image ${ref} is not pinned to an exact version (tag ${r.tag} lacks x.y.z)`;
  return null;
}

/** A COPY/ADD source that is secret material by its name. */
export function secretSourceReason(src: string): string | null {
  const path = src.replace(/\/+$/, '');
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  const base = segments[segments.length - 1] ?? '';
  if (/^\.env(\b|\*|$)/i.test(base) || /\.env$/i.test(base)) return 'an .env file';
  if (/\.(pem|key|p12|pfx|jks|keystore)$/i.test(base) || /\*\.(pem|key)$/i.test(base)) return 'a key or certificate file';
  if (/^id_(rsa|dsa|ecdsa|ed25519)/i.test(base)) return 'an SSH key';
  if (segments.some((s) => /^(keys|secrets|\.ssh|\.gnupg)$/i.test(s))) return 'a key/secret directory';
  return null;
}

// ---- .dockerignore evaluation (Docker's rules: last matching pattern wins, `!` re-includes, a
// pattern matching a directory excludes everything below it).

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let k = 0; k < pattern.length; k++) {
    const ch = pattern[k] as string;
    if (ch === '*') {
      if (pattern[k + 1] === '*') {
        k++;
        if (pattern[k + 1] === '/') {
          k++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', k);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern.slice(k + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        k = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function dockerignoreExcludes(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = (negate ? l.slice(1) : l).trim().replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
      return { negate, re: globToRegExp(p) };
    });
  const parts = path.split('/');
  const prefixes = parts.map((_, k) => parts.slice(0, k + 1).join('/'));
  let excluded = false;
  for (const r of rules) {
    if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
  }
  return excluded;
}

/** Paths a whole-context copy must not be able to pick up. */
export const SECRET_SAMPLES = [
  '.env',
  '.env.production',
  'deploy/.env',
  'prod.env',
  'server.pem',
  'certs/server.pem',
  'server.key',
  'certs/server.key',
  'keys/signing.json',
  'deploy/keys/signing.json',
];

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|KEY/i;
/** Names that point at a secret rather than hold one (TOKENS_FILE, SIGNING_KEY_DIR). */
const REFERENCE_NAME = /_(FILE|DIR|PATH)$/i;
const PURE_REFERENCE = /^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$/;

interface Stage {
  name: string | null;
  base: string;
  /** Index of the earlier stage this one builds on, if any. */
  parent: number | null;
  line: number;
  user: { value: string; line: number } | null;
  healthcheck: 'set' | 'none' | null;
}

/** Checks a Dockerfile's text; returns one line per problem (empty: the file passes). */
export function checkDockerfile(text: string, opts: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const at = (line: number, msg: string) => problems.push(`line ${line}: ${msg}`);
  const instructions = parseDockerfile(text);
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];

  for (const ins of instructions) {
    const stage = stages[stages.length - 1];
    switch (ins.keyword) {
      case 'FROM': {
        const { rest } = flagsAndRest(words(ins.args));
        const ref = rest[0] ?? '';
        const name = rest.length >= 3 && rest[1]?.toUpperCase() === 'AS' ? (rest[2] ?? '').toLowerCase() : null;
        const resolved = substitute(ref, globalArgs);
        const parent = stages.findIndex((s) => s.name !== null && s.name === resolved.toLowerCase());
        if (ref === '') at(ins.line, 'FROM without an image');
        else if (parent < 0) {
          const why = unpinnedReason(resolved);
          if (why !== null) at(ins.line, why);
        }
        stages.push({ name, base: resolved, parent: parent < 0 ? null : parent, line: ins.line, user: null, healthcheck: null });
        break;
      }
      case 'USER':
        if (stage !== undefined) stage.user = { value: ins.args.trim(), line: ins.line };
        break;
      case 'HEALTHCHECK':
        if (stage !== undefined) stage.healthcheck = /^NONE$/i.test(ins.args.trim()) ? 'none' : 'set';
        break;
      case 'COPY':
      case 'ADD': {
        const all = jsonArgs(ins.args) ?? words(ins.args);
        const { flags, rest } = flagsAndRest(all);
        if (rest.some((w) => w.startsWith('<<'))) break; // heredoc content, not files
        const sources = rest.slice(0, -1);
        for (const src of sources) {
          if (/^[a-z]+:\/\//i.test(src)) continue; // ADD of a URL
          const why = secretSourceReason(src);
          if (why !== null) at(ins.line, `${ins.keyword} ${src} copies ${why} into the image`);
          const fromContext = !flags.has('from');
          const whole = /^(\.|\.\/|\*|\/|\.\/\*)$/.test(src);
          if (fromContext && whole) {
            const leaks =
              opts.dockerignore === undefined
                ? SECRET_SAMPLES
                : SECRET_SAMPLES.filter((p) => !dockerignoreExcludes(opts.dockerignore as string, p));
            if (leaks.length > 0) {
              at(
                ins.line,
                `${ins.keyword} ${src} copies the whole build context but .dockerignore ${
                  opts.dockerignore === undefined ? 'is missing' : `does not exclude ${leaks.join(', ')}`
                }`,
              );
            }
          }
        }
        break;
      }
      case 'ENV':
      case 'ARG': {
        const ws = words(ins.args);
        let pairs: [string, string | undefined][];
        if (ins.keyword === 'ENV' && ws.length > 0 && !(ws[0] as string).includes('=')) {
          pairs = [[ws[0] as string, ws.slice(1).join(' ')]]; // legacy `ENV NAME value`
        } else {
          pairs = ws.map((w) => {
            const eq = w.indexOf('=');
            return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
          });
        }
        for (const [name, value] of pairs) {
          if (ins.keyword === 'ARG' && stages.length === 0 && value !== undefined) globalArgs.set(name, value);
          if (value === undefined || value === '' || PURE_REFERENCE.test(value)) continue;
          if (SECRET_NAME.test(name) && !REFERENCE_NAME.test(name)) {
            at(ins.line, `${ins.keyword} ${name} sets a secret-looking value in the image (pass it at run time)`);
          }
        }
        break;
      }
      default:
        break;
    }
  }

  const final = stages[stages.length - 1];
  if (final === undefined) {
    problems.push('line 1: no FROM instruction');
    return problems;
  }
  // USER and HEALTHCHECK are inherited from an earlier stage the final one builds on.
  let user: Stage['user'] = null;
  let health: Stage['healthcheck'] = null;
  for (let s: Stage | undefined = final; s !== undefined; s = s.parent === null ? undefined : stages[s.parent]) {
    user ??= s.user;
    health ??= s.healthcheck;
  }
  if (user === null) at(final.line, 'the final stage runs as root (no USER)');
  else if (/^(root|0)(:.*)?$/i.test(user.value)) at(user.line, `the final stage runs as root (USER ${user.value})`);
  if (health === null) at(final.line, 'the final stage has no HEALTHCHECK');
  else if (health === 'none') at(final.line, 'the final stage disables its HEALTHCHECK (HEALTHCHECK NONE)');
  return problems;
}

function main(argv: string[]): number {
  let file = 'Dockerfile';
  let ignore: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k] as string;
    if (a === '--dockerignore') ignore = argv[++k];
    else file = a;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    process.stderr.write(`${file}: cannot read\n`);
    return 2;
  }
  const ignorePath = ignore ?? join(dirname(file), '.dockerignore');
  const problems = checkDockerfile(text, existsSync(ignorePath) ? { dockerignore: readFileSync(ignorePath, 'utf8') } : {});
  for (const p of problems) process.stderr.write(`${file}: ${p}\n`);
  if (problems.length === 0) process.stdout.write(`ok ${file}\n`);
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1]?.endsWith('check-dockerfile.js')) process.exitCode = main(process.argv.slice(2));
