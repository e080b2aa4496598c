// The V8 settings the `serve` process starts with. V8 sizes its heap when the process starts, so
// they cannot be set from inside (v8.setFlagsFromString comes too late for heap sizes, and
// NODE_OPTIONS refuses this one): every launcher passes them on node's command line — the npm
// scripts, the Dockerfile's ENTRYPOINT, bin/rewarder.js's shebang, scripts/macronode-up, and the
// test and benchmark spawners, which import this list (testing/ops checks the others carry it).
//
// --initial-old-space-size=128: the edge's heap holds ~20 MB of live objects, so V8 sets the
// old generation's limit only ~25 MB above that, less than the young generation it promotes from
// under load, and starts a major GC every 250–650 ms that frees 1–4 MB; its concurrent marking
// runs on helper threads that take CPU from the compute worker on a small box. With a 128 MB
// floor, only external-memory pressure (every 64 MB of new ArrayBuffers) starts one: 21 → 6
// major GCs per 10 s of warm-M load, helper threads 0.12 → 0.06 of a core (PERFORMANCE.md).
// Memory is committed as it is used, not reserved up front.
export const SERVE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];
