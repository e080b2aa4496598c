// The OpenAPI contract, checked on every answer the system tests receive: the harness's
// `request` (and so get/put/post) hands each reply from a registered service URL to
// `contractProblems`, which validates its status, headers and body against the document the
// service serves (src/http/openapi.ts) with ajv, and fails the request when they disagree. So a
// schema that drifts from the service fails CI in whichever test first meets the drift.
// REWARDER_CONTRACT=off turns the check off (e.g. to see a test's own failure first).

import type { IncomingHttpHeaders } from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '../src/http/openapi.js';

type Json = Record<string, unknown>;

const DOC_ID = 'https://svc-rewarder.invalid/openapi.json';
const PREFIX = '/rewarder';

// ajv-formats is CommonJS with a default export; under NodeNext its namespace is what we get.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

interface Loaded {
  doc: Json;
  ajv: Ajv2020;
  routes: { template: string; re: RegExp; ops: Record<string, Json> }[];
  compiled: Map<string, ValidateFunction>;
}

let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded !== undefined) return loaded;
  const doc = openApiDocument();
  // strict: false because the document is not itself a schema (openapi, paths, … are not
  // keywords); every schema inside it is still compiled and checked as JSON Schema 2020-12.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const routes = Object.entries(paths).map(([template, ops]) => ({
    template,
    re: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    ops,
  }));
  loaded = { doc, ajv, routes, compiled: new Map() };
  return loaded;
}

const services = new Set<string>();
const enabled = () => (process.env.REWARDER_CONTRACT ?? 'on') !== 'off';

/** Marks a base URL as the service's: its answers are checked against the document. */
export function registerService(url: string): void {
  services.add(new URL(url).origin);
}

/** Its process has exited: a later process may reuse the port. */
export function unregisterService(url: string): void {
  services.delete(new URL(url).origin);
}

/** True when answers from `url` are checked. */
export function isContractChecked(url: string): boolean {
  return enabled() && services.has(new URL(url).origin);
}

const pointer = (...parts: string[]) => `#/${parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;

function validator(at: string): ValidateFunction {
  const l = load();
  let v = l.compiled.get(at);
  if (v === undefined) {
    v = l.ajv.compile({ $ref: `${DOC_ID}${at}` });
    l.compiled.set(at, v);
  }
  return v;
}

function resolve(node: Json): { node: Json; at: string | null } {
  const r = node.$ref;
  if (typeof r !== 'string') return { node, at: null };
  let cur: unknown = load().doc;
  for (const part of r.slice(2).split('/')) cur = (cur as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return { node: cur as Json, at: r };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What in `answer` (to `method path`) contradicts the document; [] when it conforms. */
export function contractProblems(method: string, path: string, answer: Answer): string[] {
  const l = load();
  let pathname = new URL(path, 'http://x').pathname;
  if (pathname === PREFIX || pathname.startsWith(`${PREFIX}/`)) pathname = pathname.slice(PREFIX.length) || '/';
  const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  const route = l.routes.find((r) => r.re.test(pathname));
  const operation = route?.ops[m];
  const where = route !== undefined && operation !== undefined ? `${method} ${route.template}` : `${method} ${pathname} (not in the document)`;
  if (route === undefined || operation === undefined) {
    // Outside the document the only contract is the router's: 404 with the error envelope.
    if (answer.status !== 404) return [`${where}: answered ${answer.status}, only 404 is possible for an undocumented route`];
    return checkResponse(where, { $ref: pointer('components', 'responses', 'E404') }, '', answer, method);
  }
  const responses = operation.responses as Json;
  const s = String(answer.status);
  const key = [s, `${s[0]}XX`, 'default'].find((k) => responses[k] !== undefined);
  if (key === undefined) return [`${where}: status ${s} is not declared (declared: ${Object.keys(responses).join(', ')})`];
  return checkResponse(`${where} → ${s}`, responses[key] as Json, pointer('paths', route.template, m, 'responses', key), answer, method);
}

function checkResponse(where: string, declared: Json, at: string, answer: Answer, method: string): string[] {
  const problems: string[] = [];
  const { node: response, at: refAt } = resolve(declared);
  const here = refAt ?? at;
  for (const [name, h] of Object.entries((response.headers as Record<string, Json> | undefined) ?? {})) {
    const value = answer.headers[name.toLowerCase()];
    if (value === undefined) {
      if (h.required === true) problems.push(`${where}: header ${name} is required but absent`);
      continue;
    }
    const v = validator(`${here}/headers/${name.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`);
    if (!v(Array.isArray(value) ? value.join(', ') : value)) problems.push(`${where}: header ${name}: ${load().ajv.errorsText(v.errors)}`);
  }
  const content = response.content as Record<string, Json> | undefined;
  if (content === undefined || method.toUpperCase() === 'HEAD') {
    if (content === undefined && answer.body.length > 0) problems.push(`${where}: a body (${answer.body.length} bytes) where none is declared`);
    return problems;
  }
  const type = String(answer.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (content[type] === undefined) return [...problems, `${where}: Content-Type "${type}" is not declared (${Object.keys(content).join(', ')})`];
  if (type !== 'application/json') return problems;
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return [...problems, `${where}: the body is not JSON`];
  }
  const v = validator(`${here}/content/application~1json/schema`);
  if (!v(body)) problems.push(`${where}: body: ${load().ajv.errorsText(v.errors, { dataVar: 'body' })}`);
  return problems;
}

/** For helpers built on fetch: throws when an answer from a registered service contradicts the document. */
export function assertFetchedConforms(url: string, method: string, path: string, res: Response, body: string): void {
  if (!isContractChecked(url)) return;
  const problems = contractProblems(method, path, { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(body) });
  if (problems.length > 0) throw new Error(`the answer contradicts the OpenAPI document (testing/contract.ts):\n  ${problems.join('\n  ')}`);
}

/** A fetch that checks each answer from a registered service (for the typed client's tests). */
export async function checkedFetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
  const req = new Request(input, init);
  const res = await fetch(req);
  const u = new URL(req.url);
  assertFetchedConforms(u.origin, req.method, `${u.pathname}${u.search}`, res, await res.clone().text());
  return res;
}
