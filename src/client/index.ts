// `svc-rewarder/client`: a typed HTTP client for the service, openapi-fetch over types generated
// from the OpenAPI document the service serves (api-types.ts, by openapi-typescript). Paths,
// parameters, bodies and answers are typed by the document that the contract tests hold the
// service to, so a client call that type-checks matches what the service does.
//
//   const rw = createRewarderClient('http://127.0.0.1:8080', { token });
//   const { data, error, response } = await rw.POST('/epochs/{epoch_id}/compute', {
//     params: { path: { epoch_id: '2026-01-01' } }, body: { inputs_cid, policy_id, policy_hash } });

import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './api-types.js';

export type { components, operations, paths };
export type Schemas = components['schemas'];
export type RewarderClient = Client<paths>;

export interface RewarderClientOptions {
  /** Bearer token (omit with AUTH=off). */
  token?: string;
  /** Extra headers on every request (e.g. X-Corr-ID). */
  headers?: Record<string, string>;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export function createRewarderClient(baseUrl: string, opts: RewarderClientOptions = {}): RewarderClient {
  return createClient<paths>({
    baseUrl,
    headers: { ...(opts.token !== undefined ? { Authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
    ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}),
  });
}

/**
 * A document's CID is the digest of its exact bytes, so uploads send the bytes as they are
 * rather than a re-serialised object (which may differ in spacing, escapes or member order).
 * The typed `body` is not read: `bodySerializer` sends `bytes`.
 */
const exactBytes = (bytes: Uint8Array) => ({ bodySerializer: () => bytes });

/** PUT /inputs with the document's exact bytes. */
export function sealInputs(client: RewarderClient, bytes: Uint8Array) {
  return client.PUT('/inputs', { body: {} as Schemas['InputsDocument'], ...exactBytes(bytes) });
}

/** PUT /policies with the document's exact bytes. */
export function sealPolicy(client: RewarderClient, bytes: Uint8Array) {
  return client.PUT('/policies', { body: {} as Schemas['PolicyDocument'], ...exactBytes(bytes) });
}
