/**
 * The benchmark's policy set, as formulas both the seed (in SQL) and the callers (in TS) use,
 * for a given size. Subject i (1..subjects) lives in tenant 1 + i % tenants; every
 * SECOND_TENANT_EVERY-th subject is also in tenant 1 + (i + tenants/2) % tenants. Subject i
 * holds 1 + i % 3 of its tenant's roles. A size may add one big tenant (`bench-big`, its own
 * subjects `bench-b…`, the same role formula) for the admin lists, and audit rows.
 */
export const SUBJECTS_PER_TENANT = 100;
/** ≈ 3% of subjects belong to two tenants. */
export const SECOND_TENANT_EVERY = 33;
export const ROLE_NAMES = ['admin', 'billing-admin', 'viewer', 'support', 'auditor', 'sales', 'ops', 'developer', 'finance', 'hr'];
export const PERMISSIONS = ['invoices', 'payments', 'reports', 'tickets', 'customers', 'orders', 'products', 'users'].flatMap(
  (resource) => ['read', 'write', 'delete'].map((action) => `${resource}:${action}`),
);

export const TENANT_PREFIX = 'bench-t';
export const SUBJECT_PREFIX = 'bench-u';
export const BIG_TENANT = 'bench-big';
export const BIG_SUBJECT_PREFIX = 'bench-b';

export interface Workload {
  /** The size's name, e.g. `100k`; it also names the size's database (`iam_bench_100k`). */
  name: string;
  subjects: number;
  tenants: number;
  /** Members of the big tenant (0: none). */
  bigTenantUsers: number;
  /** Audit rows seeded, half of them in the big tenant (when there is one). */
  auditRows: number;
}

/** A size by its subject count: tenants to scale (100 subjects each). */
export function workload(name: string, subjects: number, extra: Partial<Pick<Workload, 'bigTenantUsers' | 'auditRows'>> = {}): Workload {
  if (!Number.isInteger(subjects) || subjects < SUBJECTS_PER_TENANT * 2) throw new Error(`a workload needs at least ${SUBJECTS_PER_TENANT * 2} subjects`);
  return { name, subjects, tenants: Math.round(subjects / SUBJECTS_PER_TENANT), bigTenantUsers: extra.bigTenantUsers ?? 0, auditRows: extra.auditRows ?? 0 };
}

/** `npm run bench`: 1,000 tenants, 100,000 subjects (103,030 memberships). */
export const DEFAULT_WORKLOAD = workload('default', 100_000);

/** Subject rows (memberships) of the regular tenants: each subject once, every 33rd twice. */
export const memberships = (w: Workload) => w.subjects + Math.floor(w.subjects / SECOND_TENANT_EVERY) + w.bigTenantUsers;

const digits = (n: number) => String(n).length;
export const tenantSlug = (w: Workload, n: number) => TENANT_PREFIX + String(n).padStart(digits(w.tenants), '0');
export const subjectName = (w: Workload, i: number) => SUBJECT_PREFIX + String(i).padStart(digits(w.subjects), '0');
export const bigSubjectName = (w: Workload, i: number) => BIG_SUBJECT_PREFIX + String(i).padStart(digits(w.bigTenantUsers), '0');
/** The pad widths the seed's SQL uses. */
export const padWidths = (w: Workload) => ({ tenant: digits(w.tenants), subject: digits(w.subjects), big: digits(w.bigTenantUsers) });

const homeTenant = (w: Workload, i: number) => 1 + (i % w.tenants);
const secondTenant = (w: Workload, i: number) => (i % SECOND_TENANT_EVERY === 0 ? 1 + ((i + Math.floor(w.tenants / 2)) % w.tenants) : undefined);

export interface Call {
  subject: string;
  /** The tenant's number (1..tenants), for the floor's lookup by tenant id. */
  tenantNumber: number;
  /** The slug sent to enrich-token, or undefined to let the service find the tenant. */
  tenant: string | undefined;
}

/** A random subject; the tenant is always sent for two-tenant subjects, else half the time. */
export function randomCall(w: Workload): Call {
  const i = 1 + Math.floor(Math.random() * w.subjects);
  const second = secondTenant(w, i);
  const tenantNumber = second !== undefined && Math.random() < 0.5 ? second : homeTenant(w, i);
  const sendTenant = second !== undefined || Math.random() < 0.5;
  return { subject: subjectName(w, i), tenantNumber, tenant: sendTenant ? tenantSlug(w, tenantNumber) : undefined };
}

/** Subject 1 in its home tenant: the sample call each case answers first. */
export const firstCall = (w: Workload): Call => ({ subject: subjectName(w, 1), tenantNumber: homeTenant(w, 1), tenant: undefined });

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
