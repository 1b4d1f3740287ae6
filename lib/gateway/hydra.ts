/**
 * Ory Hydra's `oauth2.token_hook` (Hydra v2; `request.client` is what older versions send), all
 * grant types. The subject: the user of a user token; for the client-credentials grant, the
 * client. The tenant: `session.extra.tenant` (set at consent) or `request.payload.tenant` (a
 * token request parameter). Any refusal is 403 (Hydra shows the hook's failure as a server error
 * to the client and issues nothing); a subject in no tenant at all is no change (204, never an
 * empty 200).
 */
import { type ClaimProfile, tokenClaims } from '../policy/claim-profile.js';
import { validate } from '../http/json-body.js';
import * as z from '../schema.js';
import { denyUnlessNoneOfOurs, type GatewayDialect } from './dialect.js';
import { explicitTenant } from './named-tenant.js';

const text = z.optional(z.string().check(z.maxLength(255), z.visibleText));
const strings = z.record(z.string(), z.unknown());

export const hydraRequest = z.looseObject({
  session: z.looseObject({
    id_token: z.optional(z.nullable(z.looseObject({ subject: text, id_token_claims: z.optional(z.nullable(z.looseObject({ sub: text }))) }))),
    extra: z.optional(z.nullable(strings)),
    client_id: text,
  }),
  request: z.looseObject({
    client_id: text,
    client: z.optional(z.nullable(z.looseObject({ client_id: text }))),
    granted_scopes: z.optional(z.nullable(z.array(z.string()))),
    grant_types: z.optional(z.nullable(z.array(z.string()))),
    payload: z.optional(z.nullable(strings)),
  }),
});
export type HydraRequest = z.infer<typeof hydraRequest>;

export function hydra(profile: ClaimProfile): GatewayDialect<unknown, HydraRequest> {
  return {
    name: 'hydra',
    parse: (body) => validate(hydraRequest, body),
    query(hook) {
      const clientId = hook.request.client_id || hook.request.client?.client_id || hook.session.client_id || undefined;
      const subject = hook.session.id_token?.subject || hook.session.id_token?.id_token_claims?.sub || clientId;
      if (!subject) return undefined;
      const tenant = explicitTenant(hook.session.extra?.['tenant']) ?? explicitTenant(hook.request.payload?.['tenant']);
      return { subject, tenant, clientId };
    },
    allow(_hook, claims) {
      const set = tokenClaims(claims, profile);
      return { status: 200, body: { session: { access_token: set, id_token: set } } };
    },
    unchanged: () => ({ status: 204 }),
    refuse: denyUnlessNoneOfOurs,
  };
}
