/**
 * enrich-token speaks each gateway's language around one core (lib/policy/enrich-token.ts: the
 * same lookup, the same single database round trip). Each dialect parses leniently what its
 * caller may add (loose objects: vendors add fields between versions) and answers strictly what
 * that caller expects:
 *
 * | dialect    | claims added                 | no change                  | deny                     | store down |
 * | ---------- | ---------------------------- | -------------------------- | ------------------------ | ---------- |
 * | native     | 200 claims                   | —                          | 403/404/409 problem      | 503        |
 * | hydra      | 200 {session: {access_token, id_token}} | 204: subject in no tenant at all | 403 problem | 503: Hydra fails the token request |
 * | oathkeeper | 200 session + extra + header | 200 session as sent: anonymous subject | 403 problem | 503: Oathkeeper denies |
 * | cognito    | event + claimsAndScopeOverrideDetails | event as sent: subject in no tenant at all | throw: sign-in refused | throw, generic message |
 * | forward-auth | 200 + X-Auth-* headers     | —                          | 401 / 403 problem        | 503        |
 *
 * Fail closed (README, "Security"): "no change" only where our claims cannot exist — a subject
 * in no tenant at all (whatever tenant it names), or an anonymous Oathkeeper session. A subject
 * that is in some tenant and names one it is not in, or a suspended or unknown one, is refused,
 * and the refusal is the same problem whether the slug exists, or is suspended (unless the
 * subject is a member of that suspended tenant: then `tenant-suspended`). Forward-auth
 * (functions/forward-auth.ts) and the Cognito trigger (functions/cognito-pre-token.ts) use the
 * same core from their own functions.
 */
import { AppError, ForbiddenError } from '../errors.js';
import { type ClaimProfile, tokenClaims } from '../policy/claim-profile.js';
import type { Claims, ClaimsQuery } from '../policy/claims.js';
import { SubjectNotFoundError } from '../policy/enrich-token.js';
import * as z from '../schema.js';

export type Dialect = 'native' | 'hydra' | 'oathkeeper';

/** Which language a parsed JSON body speaks: by its shape, most specific first. */
export function dialectOf(body: Record<string, unknown>): Dialect {
  if ('session' in body && 'request' in body) return 'hydra';
  if ('match_context' in body || 'extra' in body || 'header' in body) return 'oathkeeper';
  return 'native';
}

const text = z.optional(z.string().check(z.maxLength(255), z.visibleText));
/** A tenant named by a gateway or a token: the slug the policy store keys tenants by. */
export const tenantSlug = z.string().check(z.regex(/^[a-z0-9-]{2,63}$/, 'must be a tenant slug ([a-z0-9-]{2,63})'));
const strings = z.record(z.string(), z.unknown());

/** Ory Hydra's `oauth2.token_hook` request (Hydra v2; `request.client` is what older versions send). */
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

/** Ory Oathkeeper's authentication session, as its `hydrator` mutator POSTs it. */
export const oathkeeperSession = z.looseObject({
  subject: z.string().check(z.maxLength(255), z.visibleText),
  extra: z.optional(z.nullable(strings)),
  header: z.optional(z.nullable(strings)),
  // `url` is an object in practice (Go's url.URL) and a string in the docs: both are accepted, neither is read.
  match_context: z.optional(z.nullable(z.looseObject({ url: z.optional(z.unknown()), method: z.optional(z.unknown()) }))),
});
export type OathkeeperSession = z.infer<typeof oathkeeperSession>;

/** An explicit tenant the caller chose: a slug, or a one-slug list (Hydra passes form values as lists). */
function explicitTenant(value: unknown): string | undefined {
  const one = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (one === undefined || one === null || one === '') return undefined;
  const parsed = z.safeParse(tenantSlug, one);
  if (!parsed.success) throw new ForbiddenError('The requested tenant is not a tenant slug.', 'tenant-invalid');
  return parsed.data;
}

/**
 * The Hydra subject: the user of a user token; for the client-credentials grant, the client.
 * Tenant: `session.extra.tenant` (set at consent) or `request.payload.tenant` (a token request parameter).
 */
export function hydraQuery(hook: HydraRequest): ClaimsQuery | undefined {
  const clientId = hook.request.client_id || hook.request.client?.client_id || hook.session.client_id || undefined;
  const subject = hook.session.id_token?.subject || hook.session.id_token?.id_token_claims?.sub || clientId;
  if (!subject) return undefined;
  const tenant = explicitTenant(hook.session.extra?.['tenant']) ?? explicitTenant(hook.request.payload?.['tenant']);
  return { subject, tenant, clientId };
}

export function hydraAnswer(claims: Claims, profile: ClaimProfile) {
  const set = tokenClaims(claims, profile);
  return { session: { access_token: set, id_token: set } };
}

/**
 * A gateway knows allow, 401 and 403: every other refusal of the core (404, 409, 422) becomes a
 * 403 with the same code and detail; a 5xx stays one (every gateway denies it too).
 */
export function deny(error: AppError): AppError {
  return error.status >= 500 || error.status === 403 ? error : new ForbiddenError(error.message, error.code);
}

/**
 * The subject is in no tenant at all: only there may a dialect answer "no change" (our claims
 * could not exist). A subject in some tenant that names one it is not in is refused instead.
 */
export const noneOfOurs = (error: AppError) => error instanceof SubjectNotFoundError && !error.known;

/**
 * A Hydra deny: any refusal is 403 (Hydra shows the hook's failure as a server error to the
 * client and issues nothing); a subject in no tenant at all is no change (204), not a deny.
 */
export function hydraRefusal(error: AppError): AppError | 'no-change' {
  return noneOfOurs(error) ? 'no-change' : deny(error);
}

/** Oathkeeper: the tenant only from `extra` (an authenticator's output), never from the end user's headers. */
export function oathkeeperQuery(session: OathkeeperSession): ClaimsQuery | undefined {
  if (session.subject === '') return undefined;
  return { subject: session.subject, tenant: explicitTenant(session.extra?.['tenant']) };
}

export function oathkeeperAnswer(session: OathkeeperSession, claims: Claims, profile: ClaimProfile) {
  tokenClaims(claims, profile); // the same byte budget: these become upstream headers
  return {
    ...session,
    extra: { ...session.extra, tenant: claims.tenant.slug, tenant_id: claims.tenant.id, subject_type: claims.subject_type, roles: claims.roles, permissions: claims.permissions },
    header: { ...session.header, ...forwardHeaders(claims) },
  };
}

/** The upstream headers forward-auth answers with and Oathkeeper passes on (Go's http.Header: lists). */
export function forwardHeaders(claims: Claims): Record<string, [string]> {
  return {
    'X-Auth-Subject': [claims.subject],
    'X-Auth-Tenant': [claims.tenant.slug],
    'X-Auth-Roles': [claims.roles.join(',')],
    'X-Auth-Permissions': [claims.permissions.join(',')],
  };
}
