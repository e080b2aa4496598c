// The server: binds the port with timeouts that fire on time, and owns the process signals.
// SIGHUP/SIGUSR1 reload the configuration (all reloadable values or none), SIGTERM drains.

import { type RequestListener, type Server, type ServerOptions, createServer as createHttpServer } from 'node:http';
import { type AddressInfo, type Server as NetServer, createServer } from 'node:net';
import { serve } from '@hono/node-server';
import { type Config, ConfigError, loadConfig } from './config.js';
import type { Runtime } from './runtime.js';

export interface Listening {
  url: string;
  server: Server;
  /** The load balancer agent's address, when LB_AGENT_PORT is set. */
  agentUrl?: string;
  /**
   * Leaves rotation (agent `drain`, /readyz 503) for SHUTDOWN_LEAVE_MS while still serving, then
   * stops accepting, lets in-flight requests finish (up to the grace), closes the pool.
   */
  shutdown(): Promise<void>;
}

/**
 * HAProxy's agent-check: on each check HAProxy connects, and the reply line sets the server's
 * administrative state. `ready` keeps it in rotation (its health still comes from the /readyz
 * check); `drain` gives it weight 0, so no new request is routed here while those in flight
 * finish. Nothing is read from the socket: the reply depends on this process's state alone.
 */
function startAgent(rt: Runtime, config: Config, port: number): Promise<NetServer> {
  const agent = createServer((sock) => {
    sock.on('error', () => sock.destroy());
    sock.end(rt.state.leaving || rt.state.shuttingDown ? 'drain\n' : 'ready\n');
  });
  return new Promise((resolve, reject) => {
    agent.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${config.HOST}:${port} for LB_AGENT_PORT (${e.code ?? e.message})`)));
    agent.listen(port, config.HOST, () => resolve(agent));
  });
}

export function listen(rt: Runtime, config: Config): Promise<Listening> {
  const replays = rt.replays;
  // The adapter calls this with its options and its listener; only (options, listener) is used.
  const withReplays = ((options: ServerOptions, listener: RequestListener) =>
    createHttpServer(options, replays === null ? listener : replays.wrap(listener))) as typeof createHttpServer;
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: rt.app.fetch,
        // Replays of settled bindings are answered before the app (http/replay-shortcut.ts).
        ...(replays === null ? {} : { createServer: withReplays }),
        port: config.PORT,
        hostname: config.HOST,
        serverOptions: {
          // Node checks these timeouts only every connectionsCheckingInterval (30 s by
          // default), which would let a slow-loris client hold sockets 30 s longer than asked.
          connectionsCheckingInterval: config.CONNECTIONS_CHECK_MS,
          headersTimeout: config.HEADERS_TIMEOUT_MS,
          requestTimeout: config.REQUEST_TIMEOUT_MS,
          keepAliveTimeout: config.KEEPALIVE_TIMEOUT_MS,
          maxHeaderSize: config.MAX_HEADER_SIZE,
        },
      },
      (info: AddressInfo) => {
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        const url = `http://${host}:${info.port}`;
        if (config.LB_AGENT_PORT === undefined) return resolve({ url, server: server as Server, shutdown });
        startAgent(rt, config, config.LB_AGENT_PORT).then(
          (a) => {
            agent = a;
            const port = (a.address() as AddressInfo).port;
            resolve({ url, server: server as Server, shutdown, agentUrl: `tcp://${host}:${port}` });
          },
          (e: unknown) => server.close(() => reject(e)),
        );
      },
    ) as Server;
    // `Expect: 100-continue`: Node would answer 100 Continue before any handler runs, inviting an
    // oversized body the route then refuses. With this listener the request goes to the app
    // without it, and the body reader sends 100 Continue only once the declared length fits
    // (http/body.ts); a refusal before that (401, 413…) is answered without it.
    server.on('checkContinue', (req, res) => server.emit('request', req, res));
    // A port in use or a bad address: one clear failure for the caller, not an unhandled event.
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${config.HOST}:${config.PORT} (${e.code ?? e.message})`)));
    server.headersTimeout = config.HEADERS_TIMEOUT_MS;
    server.requestTimeout = config.REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = config.KEEPALIVE_TIMEOUT_MS;

    let agent: NetServer | undefined;
    let closing: Promise<void> | undefined;
    function shutdown(): Promise<void> {
      closing ??= (async () => {
        // Leave rotation first: with an agent the balancer sees `drain` within its agent interval
        // and routes nothing new here; until then requests are still served as usual. Without an
        // agent, only the /readyz check could tell, far slower: close at once instead (refused
        // connections are retried elsewhere by a balancer, see scripts/macronode-up).
        rt.state.leaving = true;
        if (agent !== undefined && config.SHUTDOWN_LEAVE_MS > 0) await new Promise((done) => setTimeout(done, config.SHUTDOWN_LEAVE_MS).unref());
        rt.state.shuttingDown = true;
        const closed = new Promise<void>((done) => server.close(() => done()));
        server.closeIdleConnections();
        const grace = new Promise<void>((done) => setTimeout(done, config.SHUTDOWN_GRACE_MS).unref());
        await Promise.race([closed, grace]);
        server.closeAllConnections();
        agent?.close();
        await rt.close();
      })();
      return closing;
    }
  });
}

/** Wires SIGHUP/SIGUSR1 (reload) and SIGTERM/SIGINT (drain, exit 0). */
export function handleSignals(rt: Runtime, l: Listening, env: NodeJS.ProcessEnv = process.env): void {
  const reload = (signal: string) => {
    try {
      const next = loadConfig(env);
      const needRestart = rt.reload(next);
      rt.metrics.configReload.inc({ result: 'success' });
      rt.logger.info({ signal, restart_required_for: needRestart }, 'configuration reloaded');
    } catch (e) {
      rt.metrics.configReload.inc({ result: 'failure' });
      const reason = e instanceof ConfigError ? e.message : String(e);
      rt.logger.error({ signal, reason }, 'configuration reload refused; keeping the previous values');
    }
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  process.on('SIGUSR1', () => reload('SIGUSR1'));
  const stop = (signal: string) => {
    rt.logger.info({ signal }, 'draining');
    l.shutdown().then(
      () => {
        rt.logger.info('stopped');
        process.exit(0);
      },
      (e: unknown) => {
        rt.logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // One drain, whatever arrives after: under `npm start` a Ctrl-C reaches this process twice (the
  // terminal signals the whole process group and npm forwards its own copy); with `once`, a copy
  // arriving after the first was handled would meet the default action and kill the process
  // mid-drain. The drain is bounded by SHUTDOWN_GRACE_MS.
  let draining = false;
  const once = (signal: string) => {
    if (draining) return;
    draining = true;
    stop(signal);
  };
  process.on('SIGTERM', () => once('SIGTERM'));
  process.on('SIGINT', () => once('SIGINT'));
}
