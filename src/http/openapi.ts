// /openapi.json, generated from the zod schemas that validate requests (schemas.ts).
import { z } from 'zod';
import { ERROR_STATUS } from '../errors.js';
import { computeRequest, computeResponse, errorEnvelope, inputsSealed, payoutProof, policySealed, programEpochs, readiness } from './schemas.js';

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: errorText[s] ?? 'error', ...json(errorEnvelope) }]));

const errorText: Record<number, string> = {
  400: 'invalid request or document (details.path, details.problem), or an epoch id whose prefix is not a program name',
  401: 'missing or unknown bearer token',
  403: 'token lacks the scope',
  404: "unknown inputs, policy, epoch or payee; also any epoch outside the token's programs and any document the tenant has not sealed itself (SPEC §10)",
  409: 'CONFLICT: epoch bound to another triple (details.differs), WINDOW_OVERLAP: the inputs window overlaps an epoch bound in the same program (details.epoch_id), or QUARANTINED: invariant breach',
  413: "body or decompressed body over its cap, or QUOTA_EXCEEDED: the tenant's stored bytes would pass its quota (details.limit_bytes, used_bytes, document_bytes)",
  415: 'not application/json, or a Content-Encoding other than gzip',
  422: "POLICY_MISMATCH: policy_id does not match the stored policy, or POOL_OVER_BUDGET: the pool exceeds the program's max_pool_minor",
  429: 'tenant rate limit (Retry-After, X-RateLimit-*)',
  503: 'overloaded (queue, in-flight cap), compute breaker open, store full, or shutting down (Retry-After)',
  504: 'deadline exceeded (Retry-After, X-Deadline-Exceeded-By-Ms)',
};

const rawJson = { content: { 'application/json': { schema: { type: 'string', format: 'binary' } } } };
const digestParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^b3:[0-9a-f]{64}$' } });
const epochParam = { name: 'epoch_id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } };
const bearer = [{ bearer: [] }];

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'svc-rewarder', version: '1', description: 'SPEC §8. Every route is also served under /rewarder.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/inputs': {
        put: {
          summary: 'Seal an inputs document (rewarder.inputs/v1); gzip allowed',
          security: bearer,
          requestBody: rawJson,
          responses: { 201: { description: 'sealed by this tenant for the first time (other tenants may hold the same bytes)', ...json(inputsSealed) }, 200: { description: 'this tenant had already sealed these bytes', ...json(inputsSealed) }, ...errors(400, 401, 403, 413, 415, 429, 503) },
        },
      },
      '/inputs/{cid}': {
        get: { summary: 'The exact sealed bytes', security: bearer, parameters: [digestParam('cid')], responses: { 200: { description: 'bytes', ...rawJson }, ...errors(400, 401, 403, 404) } },
      },
      '/policies': {
        put: {
          summary: 'Seal a policy document (rewarder.policy/v1)',
          security: bearer,
          requestBody: rawJson,
          responses: { 201: { description: 'sealed by this tenant for the first time (other tenants may hold the same bytes)', ...json(policySealed) }, 200: { description: 'this tenant had already sealed these bytes', ...json(policySealed) }, ...errors(400, 401, 403, 413, 415, 429, 503) },
        },
      },
      '/policies/{policy_hash}': {
        get: { summary: 'The exact sealed bytes', security: bearer, parameters: [digestParam('policy_hash')], responses: { 200: { description: 'bytes', ...rawJson }, ...errors(400, 401, 403, 404) } },
      },
      '/epochs/{epoch_id}/compute': {
        post: {
          summary: 'Compute (and bind) an epoch; a repeat of the same triple replays byte for byte',
          security: bearer,
          parameters: [
            epochParam,
            { name: 'X-Deadline', in: 'header', schema: { type: 'string', format: 'date-time' } },
            { name: 'deadline_ms', in: 'query', schema: { type: 'integer', minimum: 0 } },
          ],
          requestBody: json(computeRequest),
          responses: {
            200: { description: 'published (or dry run, or replay with Idempotent-Replayed: true)', ...json(computeResponse) },
            202: { description: 'published, ledger degraded: intent held', ...json(computeResponse) },
            ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503, 504),
          },
        },
      },
      '/epochs/{epoch_id}': {
        get: { summary: 'The manifest bytes (ETag = commitment)', security: bearer, parameters: [epochParam], responses: { 200: { description: 'manifest', ...rawJson }, ...errors(400, 401, 403, 404) } },
      },
      '/epochs/{epoch_id}/attestation': {
        get: { summary: 'The attestation (404 when signing is off)', security: bearer, parameters: [epochParam], responses: { 200: { description: 'attestation', ...rawJson }, ...errors(401, 403, 404) } },
      },
      '/epochs/{epoch_id}/payouts/{actor}': {
        get: {
          summary: 'A payee amount and its inclusion proof',
          security: bearer,
          parameters: [epochParam, { name: 'actor', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'proof', ...json(payoutProof) }, ...errors(400, 401, 403, 404) },
        },
      },
      '/epochs/{epoch_id}/ledger': {
        get: {
          summary: 'Per-part ledger state (pending, held, accepted, dup, conflict, failed) with attempts',
          security: bearer,
          parameters: [epochParam],
          responses: { 200: { description: 'ledger state', ...rawJson }, ...errors(400, 401, 403, 404) },
        },
      },
      '/programs/{program}/epochs': {
        get: {
          summary: "A program's bound epochs in window order, with who bound each (SPEC §10); 404 for a program the token does not hold",
          security: bearer,
          parameters: [
            { name: 'program', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' } },
            { name: 'after', in: 'query', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' }, description: 'the previous page\'s next' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          ],
          responses: { 200: { description: 'one page', ...json(programEpochs) }, ...errors(400, 401, 403, 404, 429) },
        },
      },
      '/keys': {
        get: {
          summary: 'Public signing keys {keys: [{alg, key_id, public_key, signing}]}, retired ones included (empty while signing is off)',
          responses: { 200: { description: 'key set', ...rawJson } },
        },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { 200: { description: 'alive' } } } },
      '/readyz': { get: { summary: 'Readiness', responses: { 200: { description: 'ready', ...json(readiness) }, 503: { description: 'degraded', ...json(readiness) } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition' } } } },
      '/version': { get: { summary: 'Build, profile, limits, calculus version and which native backends are in use', responses: { 200: { description: 'version' } } } },
    },
    'x-error-codes': ERROR_STATUS,
  };
}
