/** Request schemas of the admin API. Strict objects: unknown fields (id, tenant, timestamps …) are refused. */
import { LOOPBACK_HOSTS } from '../config.js';
import * as z from '../schema.js';

export const roleName = z.string().check(
  z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/, 'must be a role name: 1–63 of A-Z a-z 0-9 _ . : -, starting with a letter or digit'),
);
// Subjects, names and descriptions: any script, but nothing invisible (lib/schema.ts: visibleText for
// subjects, displayText, which also allows the joiners ZWNJ/ZWJ, for names and descriptions).
export const subject = z.string().check(z.minLength(1), z.maxLength(255), z.visibleText);
const name = z.string().check(z.minLength(1), z.maxLength(200), z.displayText);
const description = z.string().check(z.maxLength(1000), z.displayText);
export const permission = z.string().check(
  z.regex(/^[A-Za-z0-9*][A-Za-z0-9_.:*/-]{0,127}$/, 'must be a permission such as invoices:read (letters, digits, _ . : * / -)'),
);
const status = z.enum(['active', 'suspended']);

/** An IdP client_id as it appears in a path: printable, no slash. */
export const clientId = z.string().check(z.minLength(1), z.maxLength(255), z.regex(/^[\x21-\x2e\x30-\x7e]+$/, 'must be a client_id (visible ASCII, no /)'));

/** Path parameters by name; every route's `{name}` is validated with these. */
export const pathParams = { tenant: z.tenantSlug, role: roleName, subject, client: clientId } as const;

export const createTenantBody = z.strictObject({ slug: z.tenantSlug, name, status: z.optional(status) });
export const updateTenantBody = z.strictObject({ name: z.optional(name), status: z.optional(status) });

const permissions = z.array(permission).check(z.maxLength(200));
export const createRoleBody = z.strictObject({
  name: roleName,
  description: z.optional(description),
  permissions,
});
export const updateRoleBody = z.strictObject({
  description: z.optional(description),
  permissions: z.optional(permissions),
});

export const putUserBody = z.strictObject({ roles: z.array(roleName).check(z.maxLength(100)) });

// RFC 7591 client metadata. Redirect URIs: absolute https (http only on loopback, RFC 8252),
// no fragment (RFC 6749 §3.1.2). Scope: space-separated RFC 6749 §3.3 scope-tokens.
const redirectUri = z.string().check(
  z.maxLength(2000),
  z.refine((value) => {
    try {
      const u = new URL(value);
      return u.hash === '' && !value.includes('#') && (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOSTS.includes(u.hostname)));
    } catch {
      return false;
    }
  }, 'must be an absolute https:// URI without a fragment (http:// only on loopback)'),
);
export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;
const clientMetadata = {
  client_name: name,
  grant_types: z.array(z.enum(GRANT_TYPES, 'must be one of client_credentials, authorization_code, refresh_token')).check(z.minLength(1), z.maxLength(3)),
  redirect_uris: z.array(redirectUri).check(z.maxLength(20)),
  scope: z.string().check(z.maxLength(1000), z.regex(/^([\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*)?$/, 'must be space-separated scope tokens')),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post'], 'must be client_secret_basic or client_secret_post'),
  roles: z.array(roleName).check(z.maxLength(100)),
};
export const createClientBody = z.strictObject({
  client_name: clientMetadata.client_name,
  grant_types: z._default(clientMetadata.grant_types, ['client_credentials']),
  redirect_uris: z._default(clientMetadata.redirect_uris, []),
  scope: z._default(clientMetadata.scope, ''),
  token_endpoint_auth_method: z._default(clientMetadata.token_endpoint_auth_method, 'client_secret_basic'),
  roles: z._default(clientMetadata.roles, []),
});
export const updateClientBody = z.strictObject({
  client_name: z.optional(clientMetadata.client_name),
  grant_types: z.optional(clientMetadata.grant_types),
  redirect_uris: z.optional(clientMetadata.redirect_uris),
  scope: z.optional(clientMetadata.scope),
  token_endpoint_auth_method: z.optional(clientMetadata.token_endpoint_auth_method),
  roles: z.optional(clientMetadata.roles),
});

export const pageQuery = z.strictObject({
  limit: z.optional(
    z.pipe(
      z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')),
      z.pipe(z.transform((v: string) => Number(v)), z.number().check(z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100'))),
    ),
  ),
  cursor: z.optional(z.string().check(z.maxLength(512))),
});

/** Routes that are not lists take no query parameters at all. */
export const noQuery = z.strictObject({});
