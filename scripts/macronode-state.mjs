// The state file of scripts/macronode-up and -down (.macronode/state.json), read and written here
// so the bash scripts need nothing beyond node. Every process is recorded with its pid AND its
// start time (/proc/PID/stat field 22), so "is it still ours?" survives pid reuse: macronode-down
// never signals a process that merely inherited a recorded pid.
//
//   node scripts/macronode-state.mjs write STATE      (values from ST_* environment variables)
//   node scripts/macronode-state.mjs alive STATE      exit 0 when every recorded process still runs
//   node scripts/macronode-state.mjs get STATE KEY    print a top-level value
//   node scripts/macronode-state.mjs procs STATE      "kind name pid start" lines, in stopping order
//   node scripts/macronode-state.mjs running PID START   exit 0 when PID is that same process
//   node scripts/macronode-state.mjs haproxy SOCKET COMMAND  one HAProxy runtime API command
//   node scripts/macronode-state.mjs replica STATE NAME          "pid start port log agent_port" of one replica
//   node scripts/macronode-state.mjs set-replica STATE NAME PID  record a restarted replica's new process
/* global process */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';

const [cmd, file, arg] = process.argv.slice(2);

/** Start time in clock ticks since boot, or null when the pid does not exist (or is a zombie). */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null; // field 22 overall; fields here start at field 3
  } catch {
    return null;
  }
}

function read() {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function proc(pid, previous) {
  if (pid === undefined || pid === '') return null;
  const n = Number(pid);
  // Keep the start time first recorded: a later rewrite must not adopt a reused pid.
  return { pid: n, start: previous?.pid === n ? previous.start : startTime(n) };
}

function procs(s) {
  const out = [];
  if (s.haproxy?.pid) out.push(['haproxy', 'haproxy', s.haproxy.pid, s.haproxy.start]);
  for (const r of s.replicas ?? []) out.push(['replica', r.name, r.pid, r.start]);
  if (s.ledger?.pid) out.push(['ledger', 'ledger-stub', s.ledger.pid, s.ledger.start]);
  return out;
}

const e = process.env;
switch (cmd) {
  case 'write': {
    let prev = {};
    try {
      prev = read();
    } catch {
      /* first write */
    }
    const prevReplicas = new Map((prev.replicas ?? []).map((r) => [r.name, r]));
    const replicas = (e.ST_REPLICAS ?? '')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [name, pid, port, log, agent] = l.trim().split(' ');
        return { name, ...proc(pid, prevReplicas.get(name)), port: Number(port), url: `http://127.0.0.1:${port}`, log, agent_port: Number(agent) };
      });
    const state = {
      version: 1,
      dir: e.ST_DIR,
      front_url: e.ST_FRONT || null,
      stats_url: e.ST_STATS || null,
      stats_socket: e.ST_SOCK || null,
      database_url: e.ST_DB,
      schema: e.ST_SCHEMA || null,
      schema_created: e.ST_SCHEMA_CREATED === 'true',
      postgres_started: e.ST_PG_STARTED === 'true',
      postgres_cluster: e.ST_PG_CLUSTER || null,
      ledger: { url: e.ST_LEDGER_URL || null, ...(proc(e.ST_LEDGER_PID, prev.ledger) ?? {}) },
      replicas,
      haproxy: { cfg: e.ST_HAPROXY_CFG || null, ...(proc(e.ST_HAPROXY_PID, prev.haproxy) ?? {}) },
      updated_at: new Date().toISOString(),
    };
    writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    break;
  }
  case 'alive': {
    const s = read();
    const all = procs(s);
    const complete = s.front_url !== null && s.haproxy?.pid !== undefined && (s.replicas ?? []).length > 0;
    process.exitCode = complete && all.every(([, , pid, start]) => start !== null && startTime(pid) === start) ? 0 : 1;
    break;
  }
  case 'get': {
    const v = read()[arg];
    process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
    break;
  }
  case 'procs':
    for (const p of procs(read())) process.stdout.write(`${p.join(' ')}\n`);
    break;
  case 'replica': {
    const r = (read().replicas ?? []).find((x) => x.name === arg);
    if (r === undefined) {
      process.stderr.write(`macronode-state: no replica named ${arg}\n`);
      process.exitCode = 1;
      break;
    }
    process.stdout.write(`${r.pid} ${r.start} ${r.port} ${r.log} ${r.agent_port}\n`);
    break;
  }
  case 'set-replica': {
    const s = read();
    const r = (s.replicas ?? []).find((x) => x.name === arg);
    const pid = process.argv[5];
    if (r === undefined || pid === undefined) {
      process.stderr.write(`macronode-state: set-replica: no replica named ${arg} or no pid\n`);
      process.exitCode = 1;
      break;
    }
    Object.assign(r, proc(pid, null));
    s.updated_at = new Date().toISOString();
    writeFileSync(`${file}.tmp`, `${JSON.stringify(s, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    break;
  }
  case 'running': {
    const [pid, start] = [file, arg]; // `running PID START`: no state file argument
    process.exitCode = pid !== undefined && start !== undefined && start !== 'null' && startTime(pid) === start ? 0 : 1;
    break;
  }
  case 'haproxy': {
    // The runtime API answers one command per connection and closes it (no socat needed).
    const sock = createConnection(file, () => sock.end(`${arg}\n`));
    let reply = '';
    sock.setEncoding('utf8').on('data', (d) => (reply += d));
    sock.on('close', () => process.stdout.write(reply));
    sock.on('error', (err) => {
      process.stderr.write(`macronode-state: ${file}: ${err.message}\n`);
      process.exitCode = 1;
    });
    sock.setTimeout(5_000, () => sock.destroy(new Error('no answer within 5 s')));
    break;
  }
  default:
    process.stderr.write(`macronode-state: unknown command ${cmd}\n`);
    process.exitCode = 2;
}
