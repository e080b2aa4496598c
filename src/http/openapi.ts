// /openapi.json: the HTTP contract, generated from the zod schemas that validate requests
// (schemas.ts) and that describe the documents and answers (documents.ts). Every response a system
// test receives is validated against this document (testing/contract/), so a drift fails CI; new
// routes join it here, one entry per path in `paths`, with the helpers below.
import { z } from 'zod';
import { ARROW_MEDIA_TYPE } from '../core/arrow/format.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';
import { NO_STORE, PRIVATE_IMMUTABLE } from './headers.js';
import { attestation, correctionDocument, health, inputsDocument, keySet, ledgerState, manifest, policyDocument, version } from './documents.js';
import { comparison, computeRequest, computeResponse, errorEnvelope, explanation, previewRequest, inputsSealed, payoutProof, policySealed, programEpochs, readiness, redriveResult } from './schemas.js';

type Json = Record<string, unknown>;
type Scope = 'rewarder.seal' | 'rewarder.run' | 'rewarder.inspect' | 'rewarder.admin' | 'rewarder.correct';

// ---- schemas: components.schemas, referenced by name

const SCHEMAS = {
  InputsDocument: [inputsDocument, 'input'],
  PolicyDocument: [policyDocument, 'input'],
  InputsSealed: [inputsSealed, 'output'],
  PolicySealed: [policySealed, 'output'],
  ComputeRequest: [computeRequest, 'input'],
  ComputeResponse: [computeResponse, 'output'],
  Manifest: [manifest, 'output'],
  Attestation: [attestation, 'output'],
  Correction: [correctionDocument, 'output'],
  PayoutProof: [payoutProof, 'output'],
  Explanation: [explanation, 'output'],
  PreviewRequest: [previewRequest, 'input'],
  Comparison: [comparison, 'output'],
  LedgerState: [ledgerState, 'output'],
  KeySet: [keySet, 'output'],
  Health: [health, 'output'],
  Readiness: [readiness, 'output'],
  Version: [version, 'output'],
  RedriveResult: [redriveResult, 'output'],
  ProgramEpochs: [programEpochs, 'output'],
  Error: [errorEnvelope, 'output'],
} as const satisfies Record<string, readonly [z.ZodType, 'input' | 'output']>;
type SchemaName = keyof typeof SCHEMAS;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io }) as Json;
  return rest;
}

const ref = (name: SchemaName): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ 'application/json': { schema } });

// ---- headers (inline, because whether one is required depends on the response)

const HEADERS = {
  'X-Corr-ID': { description: 'the request\'s X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } },
  'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'string', pattern: '^[0-9]+$' } },
  'X-RateLimit-Limit': { description: "the tenant's token bucket rate (requests/s, burst = rate)", schema: { type: 'string', pattern: '^[0-9]+$' } },
  'X-RateLimit-Remaining': { description: 'tokens left in the bucket after this request', schema: { type: 'string', pattern: '^[0-9]+$' } },
  'X-Deadline-Exceeded-By-Ms': { description: 'how far past its deadline the request was', schema: { type: 'string', pattern: '^[0-9]+$' } },
  ETag: { description: 'the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment)', schema: { type: 'string', pattern: '^"b3:[0-9a-f]{64}"$' } },
  'Cache-Control': { description: 'answers that change with state, and errors, are not stored', schema: { type: 'string', const: NO_STORE } },
  'X-Content-Type-Options': { description: 'on every answer', schema: { type: 'string', const: 'nosniff' } },
  Vary: { description: 'a cached copy is per token', schema: { type: 'string', const: 'Authorization' } },
  'Idempotent-Replayed': { description: 'present on a repeat of a bound triple: the same bytes as the first answer', schema: { type: 'string', const: 'true' } },
  'Server-Timing': { description: "the stages in ms (a run: queue, compute, publish, ledger, …; a seal: receive, seal, store); never in the body", schema: { type: 'string' } },
  'WWW-Authenticate': { description: 'the scheme expected', schema: { type: 'string', const: 'Bearer' } },
} as const;
type HeaderName = keyof typeof HEADERS;

/** Every answer the app makes carries X-Corr-ID, X-Content-Type-Options and Cache-Control. */
const ALWAYS: HeaderName[] = ['X-Corr-ID', 'X-Content-Type-Options', 'Cache-Control'];

function headers(required: HeaderName[], optional: HeaderName[] = [], overrides: Json = {}): Json {
  const out: Json = {};
  for (const h of [...ALWAYS, ...required]) out[h] = { ...HEADERS[h], required: true };
  for (const h of optional) out[h] = HEADERS[h];
  return { ...out, ...overrides };
}

/** The exact stored bytes: content-addressed and immutable, but served behind a token. */
const IMMUTABLE: Json = {
  'Cache-Control': { description: 'sealed bytes never change, but are served behind a token: cacheable by the client only', required: true, schema: { type: 'string', const: PRIVATE_IMMUTABLE } },
};

const RATE: HeaderName[] = ['X-RateLimit-Limit', 'X-RateLimit-Remaining'];

// ---- responses

const ok = (description: string, schema: SchemaName | null, required: HeaderName[] = [], optional: HeaderName[] = [], overrides: Json = {}): Json => ({
  description,
  headers: headers(required, optional, overrides),
  ...(schema !== null ? { content: json(ref(schema)) } : {}),
});

const codesOf = (status: number): ErrorCode[] => (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((c) => ERROR_STATUS[c] === status);

/** What each error status means here, and the headers it always (or may) carry. */
const ERRORS: Record<number, { description: string; required?: HeaderName[]; optional?: HeaderName[]; details?: Json }> = {
  400: {
    description: 'invalid path parameter (details.param; invalid_program: an epoch id whose prefix is not a program name), query (invalid_query, invalid_cursor), body (details.problem) or document (details.path, details.problem)',
    optional: RATE,
  },
  401: { description: 'missing, malformed or unknown bearer token', required: ['WWW-Authenticate'] },
  403: { description: 'the token lacks the route\'s scope (details.scope)' },
  404: {
    description:
      "unknown inputs, policy, epoch, program, payee or attestation, or no claim tree for an epoch without payees (details.reason). SPEC §10: also any epoch or listing outside the token's programs, and any document the tenant has not sealed itself, with exactly the body of a missing one",
    optional: RATE,
  },
  408: { description: 'the request body arrived below BODY_MIN_RATE_BYTES_S after its grace (details.reason body_too_slow; the connection is closed)' },
  409: {
    description:
      'CONFLICT: the epoch is bound to another triple (details.differs; details.bound only to the tenant that bound it); WINDOW_OVERLAP: the inputs window overlaps that of an epoch bound in the same program (details.epoch_id); QUARANTINED: an invariant failed, nothing published; ALREADY_SUPERSEDED: the epoch named by supersedes already has a successor (details.superseded_by); WINDOW_MISMATCH: the inputs window differs from that of the epoch superseded (details.window)',
    optional: RATE,
  },
  410: { description: 'the run was evicted under the memory store\'s retention budget and its documents are no longer held (details.reason evicted, details.missing); its binding remains', optional: RATE },
  413: {
    description:
      "body, or decompressed body, over its cap (details.limit_bytes) or over DECOMP_RATIO_MAX; QUOTA_EXCEEDED: the tenant's sealed documents would pass its quota (details.limit_bytes, used_bytes, document_bytes)",
    optional: RATE,
  },
  415: { description: 'not application/json (PUT /inputs: nor application/vnd.apache.arrow.stream), or a Content-Encoding other than gzip or identity', optional: RATE },
  422: { description: "POLICY_MISMATCH: policy_id does not match the stored policy; POOL_OVER_BUDGET: the pool (after pool_cap_minor) exceeds the program's max_pool_minor (PROGRAMS_FILE)", optional: RATE },
  429: {
    description: 'the tenant\'s rate limit, the tenant over its share of the compute queue (tenant_share), or too many bodies in progress from this client address (bodies_per_client)',
    required: ['Retry-After'],
    optional: RATE,
  },
  500: { description: 'a bug: logged whole, answered generically', optional: RATE },
  503: {
    description: 'overloaded (in-flight cap, queue_full, queue_wait, bodies in progress, body byte budget), compute breaker open, worker failed, store full of unsettled runs or down, the amnesia tmpfs too full to spool an upload (spool_failed), or shutting down',
    required: ['Retry-After'],
    optional: RATE,
  },
  504: {
    description: 'deadline exceeded: on arrival, by the cost estimate, mid-run, or after publication (details.run_key: the run is published, its ledger intent follows)',
    required: ['Retry-After', 'X-Deadline-Exceeded-By-Ms'],
    optional: RATE,
    details: {
      type: 'object',
      required: ['reason', 'deadline_ms', 'elapsed_ms', 'exceeded_by_ms'],
      properties: {
        reason: { type: 'string', enum: ['deadline_arrival', 'deadline_estimate', 'deadline_aborted', 'deadline_ledger'] },
        deadline_ms: { type: 'integer', minimum: 0, description: 'the budget the request had (0 when X-Deadline was already past)' },
        elapsed_ms: { type: 'integer', minimum: 0 },
        exceeded_by_ms: { type: 'integer', minimum: 0 },
        run_key: { type: 'string', pattern: '^b3:[0-9a-f]{64}$' },
      },
    },
  },
};

/** components.responses: the error envelope with the codes of that status (and 504's details). */
function errorResponses(): Json {
  const out: Json = {};
  for (const [status, e] of Object.entries(ERRORS)) {
    const narrowed: Json = { properties: { error: { properties: { code: { enum: codesOf(Number(status)) }, ...(e.details ? { details: e.details } : {}) } } } };
    out[`E${status}`] = { description: e.description, headers: headers(e.required ?? [], e.optional ?? []), content: json({ allOf: [ref('Error'), narrowed] }) };
  }
  // Node answers this itself, before any route runs: no body, no X-Corr-ID.
  out.E431 = { description: 'request header block over MAX_HEADER_SIZE (answered by Node before routing, without a body)' };
  return out;
}

const errors = (...statuses: number[]): Json => Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/E${s}` }]));

// ---- operations

interface Op {
  operationId: string;
  summary: string;
  tag: string;
  /** null: open (no token). */
  scope: Scope | null;
  description?: string;
  parameters?: Json[];
  requestBody?: Json;
  responses: Json;
}

/** The error statuses every guarded route can answer, whatever it does. */
const GUARDED = [401, 403, 429, 431, 500, 503];

function op(o: Op): Json {
  const guarded = o.scope !== null;
  return {
    operationId: o.operationId,
    summary: o.summary,
    ...(o.description !== undefined ? { description: o.description } : {}),
    tags: [o.tag],
    security: guarded ? [{ bearer: [] }] : [],
    ...(guarded ? { 'x-scope': o.scope } : {}),
    parameters: [{ $ref: '#/components/parameters/XCorrID' }, ...(o.parameters ?? [])],
    ...(o.requestBody !== undefined ? { requestBody: o.requestBody } : {}),
    responses: { ...o.responses, ...errors(...(guarded ? GUARDED : [431, 500])) },
  };
}

const digestParam = (name: string, description: string): Json => ({ name, in: 'path', required: true, description, schema: { type: 'string', pattern: '^b3:[0-9a-f]{64}$' } });
const epochParam: Json = { name: 'epoch_id', in: 'path', required: true, description: 'the epoch', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } };
const ifNoneMatch: Json = { name: 'If-None-Match', in: 'header', description: 'the ETag held: 304 when it matches', schema: { type: 'string' } };
const contentEncoding: Json = {
  name: 'Content-Encoding',
  in: 'header',
  description: `gzip (decoded by a streaming guard: ratio and byte caps) or identity; anything else is 415`,
  schema: { type: 'string' },
};
/** An Arrow IPC stream (SPEC §2.1): binary, described rather than schematised. */
const ARROW_CONTENT: Json = { schema: { type: 'string', contentMediaType: ARROW_MEDIA_TYPE, description: 'rewarder.inputs.arrow/v1: an Arrow IPC stream (SPEC §2.1)' } };
const upload = (schema: SchemaName, description: string): Json => ({ required: true, description, content: json(ref(schema)) });

/** The exact stored bytes, with their ETag, or 304 to a matching If-None-Match. */
const exactBytes = (description: string, schema: SchemaName): Json => ({
  200: ok(description, schema, ['ETag', 'Vary', ...RATE], [], IMMUTABLE),
  304: ok('not modified (If-None-Match matched)', null, ['ETag', 'Vary', ...RATE], [], IMMUTABLE),
});

const HEX32 = { type: 'string', pattern: '^0x[0-9a-f]{64}$' };
/** The `standard-v1` dump of @openzeppelin/merkle-tree, as the claims route answers it. */
const CLAIM_TREE: Json = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'leafEncoding', 'tree', 'values'],
  properties: {
    format: { type: 'string', const: 'standard-v1' },
    leafEncoding: { type: 'array', prefixItems: [{ const: 'string' }, { const: 'uint256' }], minItems: 2, maxItems: 2 },
    tree: { type: 'array', items: HEX32, minItems: 1, description: 'the nodes, root first, leaves last' },
    values: {
      type: 'array',
      minItems: 1,
      description: 'one per payee, in payee order',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['value', 'treeIndex'],
        properties: {
          value: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'string', pattern: '^(0|[1-9][0-9]*)$' }], minItems: 2, maxItems: 2 },
          treeIndex: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
};

/** The exact-bytes answers of inputs, whose 200 may also be an Arrow stream (SPEC §2.1). */
function withArrow(r: Json): Json {
  const ok200 = r[200] as Json;
  return { ...r, 200: { ...ok200, content: { ...(ok200.content as Json), [ARROW_MEDIA_TYPE]: ARROW_CONTENT } } };
}

/** Documents belong to the tenants that sealed them (SPEC §10): 201 and 200 are per tenant. */
const SEALED_NEW = 'stored for this tenant (its first sealing of these bytes, whoever else holds them)';
const SEALED_AGAIN = 'this tenant had already sealed these bytes';

const PATHS: Record<string, Record<string, Json>> = {
  '/inputs': {
    put: op({
      operationId: 'sealInputs',
      summary: 'Seal an inputs document',
      tag: 'documents',
      scope: 'rewarder.seal',
      parameters: [contentEncoding],
      requestBody: {
        required: true,
        description:
          'rewarder.inputs/v1 (row or columnar form, application/json) at most INPUTS_MAX_BYTES, or rewarder.inputs.arrow/v1 (SPEC §2.1, an Arrow IPC stream) at most INPUTS_ARROW_MAX_BYTES, on the wire and decoded; the media type must match the body',
        content: { ...json(ref('InputsDocument')), [ARROW_MEDIA_TYPE]: ARROW_CONTENT },
      },
      responses: { 201: ok(SEALED_NEW, 'InputsSealed', RATE, ['Server-Timing']), 200: ok(SEALED_AGAIN, 'InputsSealed', RATE, ['Server-Timing']), ...errors(400, 408, 413, 415) },
    }),
  },
  '/inputs/{cid}': {
    get: op({
      operationId: 'getInputs',
      summary: 'The exact sealed inputs bytes',
      tag: 'documents',
      scope: 'rewarder.inspect',
      parameters: [digestParam('cid', 'the inputs CID'), ifNoneMatch],
      responses: { ...withArrow(exactBytes('the document as sealed, byte for byte (application/json, or an Arrow IPC stream for the Arrow form)', 'InputsDocument')), ...errors(400, 404) },
    }),
  },
  '/policies': {
    put: op({
      operationId: 'sealPolicy',
      summary: 'Seal a policy document',
      tag: 'documents',
      scope: 'rewarder.seal',
      parameters: [contentEncoding],
      requestBody: upload('PolicyDocument', 'rewarder.policy/v1, at most REQ_BODY_MAX_BYTES'),
      responses: { 201: ok(SEALED_NEW, 'PolicySealed', RATE), 200: ok(SEALED_AGAIN, 'PolicySealed', RATE), ...errors(400, 408, 413, 415) },
    }),
  },
  '/policies/{policy_hash}': {
    get: op({
      operationId: 'getPolicy',
      summary: 'The exact sealed policy bytes',
      tag: 'documents',
      scope: 'rewarder.inspect',
      parameters: [digestParam('policy_hash', 'the policy hash'), ifNoneMatch],
      responses: { ...exactBytes('the document as sealed, byte for byte', 'PolicyDocument'), ...errors(400, 404) },
    }),
  },
  '/epochs/{epoch_id}/compute': {
    post: op({
      operationId: 'computeEpoch',
      summary: 'Compute and bind an epoch',
      description: 'A repeat of the same (epoch, inputs_cid, policy_hash) answers the same bytes with Idempotent-Replayed; concurrent repeats compute once.',
      tag: 'epochs',
      scope: 'rewarder.run',
      parameters: [
        epochParam,
        { name: 'X-Deadline', in: 'header', description: 'absolute deadline (RFC 3339); wins over deadline_ms', schema: { type: 'string', format: 'date-time' } },
        { name: 'deadline_ms', in: 'query', description: 'relative deadline; the body\'s deadline_ms wins over it', schema: { type: 'integer', minimum: 0 } },
        contentEncoding,
      ],
      requestBody: { required: true, content: json(ref('ComputeRequest')) },
      responses: {
        200: ok('published and settled (or no ledger), a dry run, or a replay', 'ComputeResponse', RATE, ['Idempotent-Replayed', 'Server-Timing']),
        202: ok('published; the ledger intent is held (quarantine: true) or pending, and will be emitted without another call', 'ComputeResponse', RATE, [
          'Idempotent-Replayed',
          'Server-Timing',
        ]),
        ...errors(400, 404, 408, 409, 413, 415, 422, 504),
      },
    }),
  },
  '/epochs/{epoch_id}/preview': {
    post: op({
      operationId: 'previewEpoch',
      summary: 'What a candidate policy (or inputs) would pay for a bound epoch, compared with what it pays',
      description:
        'Computed like a dry run (nothing is bound, published or sent to the ledger) and compared with the bound run: `a` is the bound run, `b` the candidate (rewarder.comparison/v1, the same document as `rewarder diff`). inputs_cid defaults to the bound run\'s; top (default 10) bounds the gainers and losers listed.',
      tag: 'epochs',
      scope: 'rewarder.run',
      parameters: [
        epochParam,
        { name: 'X-Deadline', in: 'header', description: 'absolute deadline (RFC 3339); wins over deadline_ms', schema: { type: 'string', format: 'date-time' } },
        { name: 'deadline_ms', in: 'query', description: 'relative deadline; the body\'s deadline_ms wins over it', schema: { type: 'integer', minimum: 0 } },
        contentEncoding,
      ],
      requestBody: { required: true, content: json(ref('PreviewRequest')) },
      responses: {
        200: ok('the comparison (canonical JSON)', 'Comparison', [...RATE, 'Server-Timing']),
        ...errors(400, 404, 408, 409, 410, 413, 415, 422, 504),
      },
    }),
  },
  '/epochs/{epoch_id}': {
    get: op({
      operationId: 'getManifest',
      summary: 'The manifest bytes (ETag = commitment)',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam, ifNoneMatch],
      responses: { ...exactBytes('the manifest (JCS), byte for byte', 'Manifest'), ...errors(400, 404, 410) },
    }),
  },
  '/epochs/{epoch_id}/attestation': {
    get: op({
      operationId: 'getAttestation',
      summary: 'The attestation of the manifest (404 while signing is off)',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam, ifNoneMatch],
      responses: { ...exactBytes('the attestation', 'Attestation'), ...errors(400, 404) },
    }),
  },
  '/epochs/{epoch_id}/payouts/{actor}': {
    get: op({
      operationId: 'getPayoutProof',
      summary: 'A payee\'s amount and its inclusion proof',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam, { name: 'actor', in: 'path', required: true, description: 'the actor id (percent-encoded)', schema: { type: 'string' } }],
      responses: { 200: ok('the proof (RFC 6962 audit path)', 'PayoutProof', RATE), ...errors(400, 404, 410) },
    }),
  },
  '/epochs/{epoch_id}/export.csv': {
    get: op({
      operationId: 'getPayoutsCsv',
      summary: 'The payees as accounting CSV (SPEC §12)',
      description: 'A header line `actor,amount_minor,score`, then one RFC 4180 line per payee in payee order, LF line ends. Derived from the manifest, unsigned.',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam],
      responses: { 200: { ...ok('the CSV', null, RATE), content: { 'text/csv': { schema: { type: 'string' } } } }, ...errors(400, 404, 410) },
    }),
  },
  '/epochs/{epoch_id}/claims': {
    get: op({
      operationId: 'getClaimTree',
      summary: 'The OpenZeppelin StandardMerkleTree dump for on-chain claims (SPEC §12)',
      description:
        '`standard-v1` over values [actor, amount_minor] with leaf encoding ["string","uint256"]: StandardMerkleTree.load() takes it, and its root is what @openzeppelin/merkle-tree computes from the same values, so Solidity MerkleProof verifiers accept its proofs. 404 no_payees for an epoch without payees (a tree needs a leaf).',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam],
      responses: { 200: { ...ok('the dump', null, RATE), content: json(CLAIM_TREE) }, ...errors(400, 404, 410) },
    }),
  },
  '/epochs/{epoch_id}/explain/{actor}': {
    get: op({
      operationId: 'getExplanation',
      summary: 'Why an actor got its amount, or nothing (SPEC §11 rewarder.explanation/v1)',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam, { name: 'actor', in: 'path', required: true, description: 'the actor id (percent-encoded); any id, listed in the inputs or not', schema: { type: 'string' } }],
      responses: { 200: ok('the canonical (JCS) explanation, byte-identical to `rewarder explain`', 'Explanation', RATE), ...errors(400, 404, 410) },
    }),
  },
  '/epochs/{epoch_id}/correction': {
    get: op({
      operationId: 'getCorrection',
      summary: 'SPEC §13: the correction document of a superseding epoch (404 until its basis is fixed, or when it settled as a plain intent)',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam, ifNoneMatch],
      responses: { ...exactBytes('the correction document (ETag: its correction_commitment)', 'Correction'), ...errors(400, 404) },
    }),
  },
  '/epochs/{epoch_id}/correction/attestation': {
    get: op({
      operationId: 'getCorrectionAttestation',
      summary: 'SPEC §13: the correction\'s attestation, over "rewarder.correction.v1:" + correction_commitment (404 while signing is off or there is no correction)',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam, ifNoneMatch],
      responses: { ...exactBytes('the correction\'s attestation', 'Attestation'), ...errors(400, 404) },
    }),
  },
  '/epochs/{epoch_id}/ledger': {
    get: op({
      operationId: 'getLedgerState',
      summary: 'The run\'s ledger settlement, part by part',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [epochParam],
      responses: { 200: ok('per-part state with attempts', 'LedgerState', RATE), ...errors(400, 404) },
    }),
  },
  '/programs/{program}/epochs': {
    get: op({
      operationId: 'listProgramEpochs',
      summary: "A program's bound epochs in window order, with who bound each (SPEC §10)",
      description: 'A program the token does not hold is 404. Pass next as after for the following page.',
      tag: 'epochs',
      scope: 'rewarder.inspect',
      parameters: [
        { name: 'program', in: 'path', required: true, description: 'the program (the epoch ids\' prefix before the first :)', schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' } },
        { name: 'after', in: 'query', required: false, description: 'the previous page\'s next', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } },
        { name: 'limit', in: 'query', required: false, description: 'page size', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      ],
      responses: { 200: ok('one page', 'ProgramEpochs', RATE), ...errors(400, 404) },
    }),
  },
  '/keys': {
    get: op({
      operationId: 'getKeys',
      summary: 'Public signing keys, retired ones included (empty while signing is off)',
      tag: 'keys',
      scope: null,
      responses: { 200: ok('the key set', 'KeySet') },
    }),
  },
  '/admin/ledger/redrive': {
    post: op({
      operationId: 'redriveLedgerParts',
      summary: 'Move ledger parts left failed (of one epoch, or all) back to pending, for the drainer to send again',
      description:
        'Conflicts are never re-driven: a different body under the same part_id is a bug or an attack (RUNBOOK). SPEC §10: epoch_id must be in the token\'s programs (else 404); without it, the token must hold every program ("*", else 403).',
      tag: 'operations',
      scope: 'rewarder.admin',
      parameters: [{ name: 'epoch_id', in: 'query', required: false, description: 'only this epoch\'s parts', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } }],
      responses: { 200: ok('how many parts were re-driven', 'RedriveResult', RATE), ...errors(400, 404) },
    }),
  },
  '/healthz': { get: op({ operationId: 'getHealth', summary: 'Liveness', tag: 'operations', scope: null, responses: { 200: ok('alive', 'Health') } }) },
  '/readyz': {
    get: op({
      operationId: 'getReadiness',
      summary: 'Readiness',
      tag: 'operations',
      scope: null,
      responses: { 200: ok('ready', 'Readiness'), 503: ok('degraded (causes)', 'Readiness', ['Retry-After']) },
    }),
  },
  '/metrics': {
    get: op({
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      tag: 'operations',
      scope: null,
      responses: { 200: { description: 'text exposition 0.0.4', headers: headers([]), content: { 'text/plain': { schema: { type: 'string' } } } } },
    }),
  },
  '/version': {
    get: op({
      operationId: 'getVersion',
      summary: 'Build, profile, limits, calculus version and which native backends are in use',
      tag: 'operations',
      scope: null,
      responses: { 200: ok('version', 'Version') },
    }),
  },
  '/openapi.json': {
    get: op({
      operationId: 'getOpenApi',
      summary: 'This document',
      tag: 'operations',
      scope: null,
      responses: { 200: { description: 'OpenAPI 3.1', headers: headers([]), content: json({ type: 'object' }) } },
    }),
  },
};

const TAGS = [
  { name: 'documents', description: 'Sealing inputs and policies (SPEC §2, §3) and reading them back byte for byte' },
  { name: 'epochs', description: 'Computing, reading, proving and settling epochs (SPEC §4–§8)' },
  { name: 'keys', description: 'Public attestation keys (SPEC §6)' },
  { name: 'operations', description: 'Health, readiness, metrics, version and this document (open, outside the in-flight cap); the ledger re-drive (scope rewarder.admin)' },
];

export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'svc-rewarder',
      version: '1',
      description: 'SPEC §8: exact, deterministic reward payouts per epoch, settled idempotently to a ledger.',
      license: { name: 'Proprietary (no license granted)', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [
      { url: '/', description: 'this service, routes at the root' },
      { url: '/rewarder', description: 'the same routes under the /rewarder prefix' },
    ],
    tags: TAGS,
    security: [{ bearer: [] }],
    paths: PATHS,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'TOKENS_FILE holds the SHA-256 of each token with its tenant, scopes (x-scope per operation) and programs (SPEC §10)' } },
      schemas: Object.fromEntries(Object.entries(SCHEMAS).map(([name, [schema, io]]) => [name, jsonSchema(schema, io)])),
      responses: errorResponses(),
      parameters: {
        XCorrID: {
          name: 'X-Corr-ID',
          in: 'header',
          description: 'correlation id, echoed in the answer and logged; generated when absent or not of this form',
          schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
        },
      },
    },
    'x-error-codes': ERROR_STATUS,
  };
}
