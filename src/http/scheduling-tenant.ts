// The one place that says whose compute queue a request waits in (src/admission.ts). Until
// tenants and programs come from the tokens file (issue 13's tenantOf), it is the authenticated
// token's tenant name ('anonymous' with AUTH=off); repoint this function, nothing else.

export function schedulingTenantOf(tokenTenant: string): string {
  return tokenTenant;
}
