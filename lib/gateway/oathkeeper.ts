/**
 * Ory Oathkeeper's authentication session, as its `hydrator` mutator POSTs it. The tenant comes
 * only from `extra` (an authenticator's output), never from the end user's headers. Oathkeeper
 * knows allow and deny: every refusal is a 403, whatever the tenant's existence; an anonymous
 * session (empty subject) passes through as sent.
 */
import { type ClaimProfile, tokenClaims } from '../policy/claim-profile.js';
import { validate } from '../http/json-body.js';
import * as z from '../schema.js';
import { deny, type GatewayDialect } from './dialect.js';
import { explicitTenant } from './named-tenant.js';
import { upstreamHeaders } from './upstream-headers.js';

const strings = z.record(z.string(), z.unknown());

export const oathkeeperSession = z.looseObject({
  subject: z.string().check(z.maxLength(255), z.visibleText),
  extra: z.optional(z.nullable(strings)),
  header: z.optional(z.nullable(strings)),
  // `url` is an object in practice (Go's url.URL) and a string in the docs: both are accepted, neither is read.
  match_context: z.optional(z.nullable(z.looseObject({ url: z.optional(z.unknown()), method: z.optional(z.unknown()) }))),
});
export type OathkeeperSession = z.infer<typeof oathkeeperSession>;

export function oathkeeper(profile: ClaimProfile): GatewayDialect<unknown, OathkeeperSession> {
  return {
    name: 'oathkeeper',
    parse: (body) => validate(oathkeeperSession, body),
    query: (session) => (session.subject === '' ? undefined : { subject: session.subject, tenant: explicitTenant(session.extra?.['tenant']) }),
    allow(session, claims) {
      tokenClaims(claims, profile); // the same byte budget: these become upstream headers
      const extra = { ...session.extra, tenant: claims.tenant.slug, tenant_id: claims.tenant.id, subject_type: claims.subject_type, roles: claims.roles, permissions: claims.permissions };
      return { status: 200, body: { ...session, extra, header: { ...session.header, ...upstreamHeaders(claims) } } };
    },
    unchanged: (session) => ({ status: 200, body: session }),
    refuse: deny,
  };
}
