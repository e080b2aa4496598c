// The image's Dockerfile cannot be built here (no Docker engine), so its rules are checked by
// parsing it: the real file passes, and each way of breaking a rule fails with its own message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { checkDockerfile, dockerignoreExcludes, parseDockerfile } from '../../scripts/check-dockerfile.js';
import { SERVE_NODE_FLAGS } from '../../src/cli/serve-flags.js';

const repo = new URL('../../../', import.meta.url);
const real = readFileSync(new URL('Dockerfile', repo), 'utf8');
const ignore = readFileSync(new URL('.dockerignore', repo), 'utf8');
const cli = fileURLToPath(new URL('../../scripts/check-dockerfile.js', import.meta.url));

/** Problems of `text` with the real .dockerignore. */
const check = (text: string) => checkDockerfile(text, { dockerignore: ignore });

/** The real Dockerfile with one substitution that must apply. */
function variant(from: string | RegExp, to: string): string {
  const out = real.replace(from, to);
  assert.notEqual(out, real, `variant ${String(from)} did not change the Dockerfile`);
  return out;
}

const MINIMAL = ['FROM node:20.20.2-bookworm-slim', 'USER node', 'HEALTHCHECK CMD ["node", "-e", "0"]', 'CMD ["node"]'];
const minimal = (...extra: string[]) => [...MINIMAL.slice(0, 1), ...extra, ...MINIMAL.slice(1)].join('\n');

test('the real Dockerfile passes', () => {
  assert.deepEqual(check(real), []);
});

test('the image copies every source and header the addon compiles (native/binding.gyp)', () => {
  const gyp = readFileSync(new URL('native/binding.gyp', repo), 'utf8');
  // Our own files (not the BLAKE3 sources from node_modules, nor the vendored tree copied whole).
  const own = [...gyp.matchAll(/"([\w-]+\.c)"/g)].map((m) => m[1] as string);
  assert.ok(own.includes('rewarder_native.c'), 'binding.gyp lists rewarder_native.c');
  const natives = readdirSync(new URL('native/', repo)).filter((f) => /\.[ch]$/.test(f));
  const copies = parseDockerfile(real)
    .filter((i) => i.keyword === 'COPY')
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    .filter((w) => w.startsWith('native/'));
  const copied = (file: string) => copies.some((c) => c === `native/${file}` || (c.includes('*') && new RegExp(`^${c.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`).test(`native/${file}`)));
  for (const f of [...own, ...natives]) assert.ok(copied(f), `the Dockerfile does not copy native/${f}`);
});

test('the real Dockerfile has the shape the image needs', () => {
  const ins = parseDockerfile(real);
  const froms = ins.filter((i) => i.keyword === 'FROM');
  assert.ok(froms.length >= 2, 'multi-stage');
  const finalAt = ins.indexOf(froms[froms.length - 1] as (typeof ins)[number]);
  const final = ins.slice(finalAt);
  const one = (k: string) => final.filter((i) => i.keyword === k).map((i) => i.args);
  assert.deepEqual(one('ENTRYPOINT'), [JSON.stringify(['node', ...SERVE_NODE_FLAGS, 'bin/rewarder.js']).replaceAll(',', ', ')]);
  assert.deepEqual(one('CMD'), ['["serve"]']);
  assert.deepEqual(one('EXPOSE'), ['8080']);
  assert.match(one('HEALTHCHECK')[0] ?? '', /\/healthz/);
  assert.match(one('ENV').join(' '), /NODE_ENV=production/);
  // The final stage installs nothing and copies only what runs.
  assert.deepEqual(one('RUN'), []);
  const copied = /^(--from=\w+ )?(package\.json package-lock\.json|\/app\/node_modules|\/app\/dist\/(src|workers)|\/app\/native\/build\/Release\/rewarder_native\.node|bin|vectors\/example) /;
  for (const c of one('COPY')) assert.match(c, copied, c);
  // npm ci --omit=dev builds the production node_modules, with the native addons (BLAKE3's and
  // our Merkle tree's) built, checked to load, and the Merkle addon copied where native.ts
  // looks for it relative to dist/src/core.
  assert.match(real, /npm ci --omit=dev --ignore-scripts/);
  assert.match(real, /npm rebuild @c4312\/blake3-native/);
  assert.match(real, /npm run build:native/);
  assert.match(real, /require\('\.\/native\/build\/Release\/rewarder_native\.node'\)/);
  assert.ok(
    one('COPY').includes('--from=deps /app/native/build/Release/rewarder_native.node ./native/build/Release/'),
    'the final stage copies the Merkle addon beside dist/',
  );
});

test('a final stage without USER, or with USER root/0, fails', () => {
  assert.deepEqual(
    check(variant(/^USER .*$/m, '')).filter((p) => /root/.test(p)),
    [`line ${parseDockerfile(real).filter((i) => i.keyword === 'FROM').at(-1)?.line}: the final stage runs as root (no USER)`],
  );
  for (const u of ['root', '0', '0:0', 'root:root']) {
    const problems = check(variant(/^USER .*$/m, `USER ${u}`));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', new RegExp(`the final stage runs as root \\(USER ${u}\\)`));
  }
});

test('only the final stage needs a non-root user, and it may inherit one', () => {
  const inherits = ['FROM node:20.20.2-bookworm-slim AS base', 'USER 1000', 'HEALTHCHECK CMD true', 'FROM base AS final', 'CMD ["x"]'].join('\n');
  assert.deepEqual(check(inherits), []);
  const resets = ['FROM node:20.20.2-bookworm-slim AS base', 'USER 1000', 'FROM base', 'USER root', 'HEALTHCHECK CMD true'].join('\n');
  assert.match(check(resets).join('\n'), /runs as root \(USER root\)/);
  const buildAsRoot = ['FROM node:20.20.2-bookworm-slim AS build', 'USER root', 'FROM node:20.20.2-bookworm-slim', 'USER node', 'HEALTHCHECK CMD true'].join('\n');
  assert.deepEqual(check(buildAsRoot), []);
});

test('an unpinned base image fails: no tag, :latest, a floating major or minor', () => {
  const cases: [string, RegExp][] = [
    ['node', /base image node is not pinned \(no tag means :latest\)/],
    ['node:latest', /base image node:latest uses :latest/],
    ['node:20', /base image node:20 is not pinned to an exact version \(tag 20 lacks x\.y\.z\)/],
    ['node:20-bookworm-slim', /not pinned to an exact version/],
    ['node:20.20-bookworm-slim', /not pinned to an exact version/],
    ['node:lts-slim', /not pinned to an exact version/],
    ['registry.local:5000/node', /not pinned \(no tag/],
  ];
  for (const [ref, msg] of cases) {
    const problems = check(variant(/^FROM node:20\.20\.2-bookworm-slim AS runtime$/m, `FROM ${ref} AS runtime`));
    assert.equal(problems.length, 1, `${ref}: ${problems.join('\n')}`);
    assert.match(problems[0] ?? '', msg, ref);
  }
  // A build stage counts too.
  assert.match(check(variant(/^FROM node:20\.20\.2-bookworm-slim AS toolchain$/m, 'FROM node:latest AS toolchain')).join('\n'), /:latest/);
});

test('pinning by digest, exact tags on other registries and stage references pass', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  for (const ref of [`node@${digest}`, `node:20@${digest}`, 'registry.local:5000/team/node:20.20.2', 'gcr.io/distroless/nodejs20-debian12:v1.2.3', 'scratch']) {
    assert.deepEqual(check(['FROM ' + ref, 'USER 1000', 'HEALTHCHECK CMD true'].join('\n')), [], ref);
  }
  assert.match(check(['FROM node@sha256:abc', 'USER 1000', 'HEALTHCHECK CMD true'].join('\n')).join('\n'), /malformed digest/);
  // A global ARG with an exact default is resolved; one without a default is not pinned.
  assert.deepEqual(check(['ARG NODE=node:20.20.2-bookworm-slim', 'FROM ${NODE}', 'USER 1000', 'HEALTHCHECK CMD true'].join('\n')), []);
  assert.match(check(['ARG NODE', 'FROM $NODE', 'USER 1000', 'HEALTHCHECK CMD true'].join('\n')).join('\n'), /build argument without a pinned default/);
});

test('a missing or disabled HEALTHCHECK fails', () => {
  const problems = check(variant(/^HEALTHCHECK [\s\S]*?\n(?=ENTRYPOINT)/m, ''));
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0] ?? '', /the final stage has no HEALTHCHECK/);
  assert.match(check(minimal().replace(/HEALTHCHECK .*/, 'HEALTHCHECK NONE')).join('\n'), /disables its HEALTHCHECK/);
});

test('copying .env files, keys or certificates fails', () => {
  const cases: [string, RegExp][] = [
    ['COPY .env ./', /COPY \.env copies an \.env file into the image/],
    ['COPY .env.production /app/', /COPY \.env\.production copies an \.env file/],
    ['COPY .env* ./', /COPY \.env\* copies an \.env file/],
    ['ADD config/prod.env /app/', /ADD config\/prod\.env copies an \.env file/],
    ['COPY server.pem /etc/ssl/', /copies a key or certificate file/],
    ['COPY *.key /keys/', /COPY \*\.key copies a key or certificate file/],
    ['COPY keys/ /app/keys/', /COPY keys\/ copies a key\/secret directory/],
    ['COPY --chown=node deploy/keys/signing.json /app/', /copies a key\/secret directory/],
    ['COPY ["secrets/ledger-token", "/app/"]', /copies a key\/secret directory/],
    ['COPY --from=build /app/id_ed25519 /root/.ssh/', /copies an SSH key/],
  ];
  for (const [line, msg] of cases) {
    const problems = check(minimal(line));
    assert.equal(problems.length, 1, `${line}: ${problems.join('\n')}`);
    assert.match(problems[0] ?? '', msg, line);
    assert.match(problems[0] ?? '', /^line 2: /);
  }
  assert.deepEqual(check(minimal('COPY src/env.ts src/keyboard.ts ./src/', 'COPY --from=build /app/dist ./dist')), []);
});

test('a whole-context COPY passes only when .dockerignore keeps the secrets out', () => {
  assert.deepEqual(checkDockerfile(minimal('COPY . .'), { dockerignore: ignore }), []);
  assert.match(checkDockerfile(minimal('COPY . .')).join('\n'), /COPY \. copies the whole build context but \.dockerignore is missing/);
  const weak = checkDockerfile(minimal('COPY ./ /app/'), { dockerignore: 'node_modules\n.env\n*.pem\n' });
  assert.equal(weak.length, 1);
  assert.match(weak[0] ?? '', /does not exclude \.env\.production, deploy\/\.env, prod\.env, certs\/server\.pem, server\.key/);
  // A later `!` re-includes what an earlier line excluded.
  assert.match(checkDockerfile(minimal('COPY . .'), { dockerignore: `${ignore}\n!keys/\n` }).join('\n'), /does not exclude keys\/signing\.json/);
});

test('the real .dockerignore excludes secrets at any depth and keeps the sources', () => {
  for (const p of ['.env', '.env.local', 'a/b/.env', 'x.pem', 'a/x.key', 'keys/k', 'a/keys/k', '.git/config', 'node_modules/x/y.js', 'dist/src/x.js', 'native/build/Release/rewarder_native.node']) {
    assert.ok(dockerignoreExcludes(ignore, p), p);
  }
  for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/core/hash.ts', 'src/core/keys.ts', 'workers/compute.ts', 'bin/rewarder.js', 'vectors/example/inputs.json', 'native/binding.gyp', 'native/rewarder_native.c']) {
    assert.ok(!dockerignoreExcludes(ignore, p), p);
  }
});

test('secrets in ENV or ARG fail; references and file pointers pass', () => {
  const cases: [string, RegExp][] = [
    ['ENV TOKEN=abc', /ENV TOKEN sets a secret-looking value in the image/],
    ['ENV LEDGER_TOKEN abc123', /ENV LEDGER_TOKEN sets a secret-looking value/],
    ['ENV A=1 DB_PASSWORD="hunter 2"', /ENV DB_PASSWORD sets/],
    ['ARG API_KEY=k-123', /ARG API_KEY sets/],
    ['ARG GITHUB_SECRET=s', /ARG GITHUB_SECRET sets/],
  ];
  for (const [line, msg] of cases) {
    const problems = check(minimal(line));
    assert.equal(problems.length, 1, `${line}: ${problems.join('\n')}`);
    assert.match(problems[0] ?? '', msg, line);
  }
  assert.deepEqual(
    check(minimal('ARG LEDGER_TOKEN', 'ENV LEDGER_TOKEN=$LEDGER_TOKEN', 'ENV TOKENS_FILE=/run/secrets/tokens.json SIGNING_KEY_DIR=/run/keys', 'ENV EMPTY_TOKEN=""')),
    [],
  );
});

test('the parser joins continuations, drops comments inside them and honours # escape', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    '# a comment',
    'FROM node:20.20.2-bookworm-slim \\',
    '  AS base',
    'RUN echo a \\',
    '# a comment inside the continuation',
    '',
    '    && echo b',
    'RUN <<EOF',
    'USER root',
    'EOF',
    'user node',
    'HEALTHCHECK --interval=5s \\',
    '  CMD true',
  ].join('\n');
  const ins = parseDockerfile(text);
  assert.deepEqual(
    ins.map((i) => [i.keyword, i.line]),
    [['FROM', 3], ['RUN', 5], ['RUN', 9], ['USER', 12], ['HEALTHCHECK', 13]],
  );
  assert.equal(ins[1]?.args.replace(/\s+/g, ' '), 'echo a && echo b');
  assert.deepEqual(check(text), []);
  const backtick = ['# escape=`', 'FROM node:20.20.2-bookworm-slim `', '  AS base', 'USER 1000', 'HEALTHCHECK CMD true'].join('\n');
  const from = parseDockerfile(backtick)[0];
  assert.deepEqual([from?.keyword, from?.args.replace(/\s+/g, ' '), from?.line], ['FROM', 'node:20.20.2-bookworm-slim AS base', 2]);
  assert.deepEqual(check(backtick), []);
});

test('the CLI prints one line per problem and exits 1, or ok and 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockerfile-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), ['FROM node:latest', 'COPY .env ./', 'ENV TOKEN=abc'].join('\n'));
    const bad = spawnSync(process.execPath, [cli, join(dir, 'Dockerfile')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    const lines = bad.stderr.trim().split('\n');
    assert.equal(lines.length, 5, bad.stderr);
    for (const re of [/:latest/, /\.env/, /TOKEN/, /runs as root/, /no HEALTHCHECK/]) assert.ok(lines.some((l) => re.test(l)), `${re}: ${bad.stderr}`);
    const good = spawnSync(process.execPath, [cli, fileURLToPath(new URL('Dockerfile', repo))], { encoding: 'utf8' });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /^ok .*Dockerfile\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
