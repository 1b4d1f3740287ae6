/**
 * The benchmark's policy set, as formulas both the seed (in SQL) and the callers (in TS) use:
 * subject i lives in tenant 1 + i % TENANTS; every SECOND_TENANT_EVERY-th subject is also in
 * tenant 1 + (i + TENANTS/2) % TENANTS. Subject i holds 1 + i % 3 of its tenant's roles.
 */
export const TENANTS = 1_000;
export const SUBJECTS = 100_000;
/** ≈ 3% of subjects belong to two tenants. */
export const SECOND_TENANT_EVERY = 33;
export const ROLE_NAMES = ['admin', 'billing-admin', 'viewer', 'support', 'auditor', 'sales', 'ops', 'developer', 'finance', 'hr'];
export const PERMISSIONS = ['invoices', 'payments', 'reports', 'tickets', 'customers', 'orders', 'products', 'users'].flatMap(
  (resource) => ['read', 'write', 'delete'].map((action) => `${resource}:${action}`),
);

export const TENANT_PREFIX = 'bench-t';
export const SUBJECT_PREFIX = 'bench-u';
export const TENANT_DIGITS = String(TENANTS).length;
export const SUBJECT_DIGITS = String(SUBJECTS).length;

export const tenantSlug = (n: number) => TENANT_PREFIX + String(n).padStart(TENANT_DIGITS, '0');
export const subjectName = (i: number) => SUBJECT_PREFIX + String(i).padStart(SUBJECT_DIGITS, '0');
const homeTenant = (i: number) => 1 + (i % TENANTS);
const secondTenant = (i: number) => (i % SECOND_TENANT_EVERY === 0 ? 1 + ((i + TENANTS / 2) % TENANTS) : undefined);

export interface Call {
  subject: string;
  /** The tenant's number (1..TENANTS), for the floor's lookup by tenant id. */
  tenantNumber: number;
  /** The slug sent to enrich-token, or undefined to let the service find the tenant. */
  tenant: string | undefined;
}

/** A random subject; the tenant is always sent for two-tenant subjects, else half the time. */
export function randomCall(): Call {
  const i = 1 + Math.floor(Math.random() * SUBJECTS);
  const second = secondTenant(i);
  const tenantNumber = second !== undefined && Math.random() < 0.5 ? second : homeTenant(i);
  const sendTenant = second !== undefined || Math.random() < 0.5;
  return { subject: subjectName(i), tenantNumber, tenant: sendTenant ? tenantSlug(tenantNumber) : undefined };
}

export const enrichBody = (call: Call) =>
  JSON.stringify(call.tenant === undefined ? { subject: call.subject } : { subject: call.subject, tenant: call.tenant });

/** The same call as Ory Hydra's token hook sends it (Hydra v2 shape, trimmed to what varies). */
export const hydraBody = (call: Call) =>
  JSON.stringify({
    session: { id_token: { subject: call.subject, id_token_claims: { sub: call.subject } }, extra: call.tenant === undefined ? {} : { tenant: call.tenant }, client_id: 'bench-web' },
    request: { client_id: 'bench-web', granted_scopes: ['openid'], grant_types: ['authorization_code'], payload: {} },
  });

/** The same call as Ory Oathkeeper's hydrator sends it. */
export const oathkeeperBody = (call: Call) =>
  JSON.stringify({
    subject: call.subject,
    extra: call.tenant === undefined ? {} : { tenant: call.tenant },
    header: {},
    match_context: { regexp_capture_groups: [], url: 'https://api.example/x', method: 'GET', header: {} },
  });

export const DIALECT_BODIES = { native: enrichBody, hydra: hydraBody, oathkeeper: oathkeeperBody } as const;
export type BenchDialect = keyof typeof DIALECT_BODIES;
