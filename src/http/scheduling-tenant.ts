// The one place that says whose compute queue a request waits in (src/admission.ts): the tenant of
// the request's token (http/tenancy.ts, tenantOf; 'anonymous' with AUTH=off), the same identity
// that owns documents and is granted programs (SPEC §10). Repoint this function, nothing else.

export function schedulingTenantOf(tokenTenant: string): string {
  return tokenTenant;
}
