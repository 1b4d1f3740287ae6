import type { Claims } from '../policy/claims.js';

/** The upstream headers forward-auth answers with and Oathkeeper passes on (Go's http.Header: lists). */
export function upstreamHeaders(claims: Claims): Record<string, [string]> {
  return {
    'X-Auth-Subject': [claims.subject],
    'X-Auth-Tenant': [claims.tenant.slug],
    'X-Auth-Roles': [claims.roles.join(',')],
    'X-Auth-Permissions': [claims.permissions.join(',')],
  };
}
