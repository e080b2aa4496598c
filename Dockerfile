# syntax=docker/dockerfile:1
# svc-rewarder image: Node 20 on Debian bookworm-slim, pinned to an exact release.
#
#   docker build -t svc-rewarder:0.1.0 --build-arg BUILD_COMMIT=$(git rev-parse --short HEAD) .
#
# Micronode (amnesia: nothing written outside tmpfs; the root filesystem can be read-only):
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp --tmpfs /dev/shm:rw,nosuid,nodev,size=512m \
#     -v "$PWD/tokens.json:/run/secrets/tokens.json:ro" -e TOKENS_FILE=/run/secrets/tokens.json \
#     svc-rewarder:0.1.0
# Macronode: the same plus -e PROFILE=macronode -e DATABASE_URL=postgres://… -e LEDGER_URL=…
# (pass LEDGER_TOKEN at run time, never as a build argument). The image listens on 0.0.0.0, so
# development mode (AUTH=off) is refused here: it is allowed only on loopback with PROFILE=micronode
# (`rewarder serve --dev` on a workstation). Always mount a TOKENS_FILE.
#
# Secrets never enter a layer: tokens come from a mounted TOKENS_FILE, nothing from the build
# context is copied wholesale, and .dockerignore keeps .env*, keys/, *.pem and *.key out of the
# context anyway. `node dist/scripts/check-dockerfile.js` (and testing/ops/dockerfile.test.ts)
# checks this file, since no Docker engine runs in CI.

# ---- toolchain: what the native BLAKE3 addon needs to compile (never reaches the final image)
FROM node:20.20.2-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential python3 \
 && rm -rf /var/lib/apt/lists/*
# node-gyp compiles against the headers shipped in the image instead of downloading them.
ENV npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /app
COPY package.json package-lock.json ./

# ---- deps: production node_modules only. --ignore-scripts because `prepare` runs tsc, a
# devDependency; the two packages with install steps are then rebuilt explicitly, native addon
# first (blake3's postinstall picks the native backend only if the addon loads).
FROM toolchain AS deps
RUN npm ci --omit=dev --ignore-scripts \
 && npm rebuild @c4312/blake3-native \
 && npm rebuild blake3 \
 && node -e "require('@c4312/blake3-native')" \
 && npm cache clean --force
# Our addon: the Merkle tree and long BLAKE3 digests, compiled from the BLAKE3 sources in node_modules/@c4312/blake3-native/c,
# and ML-DSA-65 signing from the vendored PQClean sources.
# Unlike `npm ci` on a developer machine, a failed build fails the image: it must not ship with
# the several times slower TypeScript fallback unnoticed.
# Every C source and header of native/ (globs: a new file cannot be left out of the image's build).
COPY native/binding.gyp native/*.c native/*.h ./native/
COPY native/vendor/ ./native/vendor/
RUN npm run build:native \
 && node -e "require('./native/build/Release/rewarder_native.node')"

# ---- build: the full dev install compiles the TypeScript (tests too: src tests import testing/)
FROM toolchain AS build
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.client.json ./
COPY src ./src
COPY workers ./workers
COPY testing ./testing
COPY scripts ./scripts
# The CLI bundle's code cache is made by a training run of the launcher on the S vector.
COPY bin ./bin
COPY vectors/S ./vectors/S
RUN npm run build \
 && find dist -name '*.test.js' -delete \
 && find dist -name '*.test.js.map' -delete

# ---- runtime
FROM node:20.20.2-bookworm-slim AS runtime
ARG BUILD_COMMIT=dev
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    BUILD_COMMIT=${BUILD_COMMIT}
WORKDIR /app
# Everything is owned by root and read-only to the service user: the process cannot rewrite its
# own code, and it needs no writable path besides tmpfs (/tmp, /dev/shm).
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/native/build/Release/rewarder_native.node ./native/build/Release/
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workers ./dist/workers
COPY bin ./bin
COPY vectors/example ./vectors/example
# uid/gid 1000 is the base image's `node` user; numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--initial-old-space-size=128", "bin/rewarder.js"]
CMD ["serve"]
