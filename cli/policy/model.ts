/** The policy file's shape (schemas/policy-file.schema.json) and the helpers both sides of a plan use. */

export interface RoleSpec {
  description?: string;
  permissions: string[];
}

export interface ClientSpec {
  client_id?: string;
  client_name: string;
  grant_types?: string[];
  redirect_uris?: string[];
  scope?: string;
  token_endpoint_auth_method?: string;
  roles?: string[];
}

export interface TenantSpec {
  name: string;
  status?: 'active' | 'suspended';
  roles?: Record<string, RoleSpec>;
  users?: Record<string, string[]>;
  clients?: ClientSpec[];
}

export interface PolicyDocument {
  version: 1;
  tenants: Record<string, TenantSpec>;
}

/** The client fields a plan compares and apply sends (never a secret). */
export const CLIENT_FIELDS = ['client_name', 'grant_types', 'redirect_uris', 'scope', 'token_endpoint_auth_method', 'roles'] as const;
export type ClientField = (typeof CLIENT_FIELDS)[number];

/** Code-unit order: the same on every machine and locale, so exports diff cleanly. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A set of strings as the file and the API both mean it: sorted, each once. */
export const sortedSet = (values: readonly string[]): string[] => [...new Set(values)].sort(byCodeUnit);

export const sortedKeys = <T>(record: Record<string, T>): string[] => Object.keys(record).sort(byCodeUnit);
