/**
 * Amazon Cognito's pre token generation trigger, event versions 2 and 3 (the user pool's
 * LambdaVersion V2_0 or V3_0): before the user pool issues tokens it calls the trigger, which
 * adds the subject's tenant, roles and permissions.
 *
 * | outcome                                             | answer to Cognito                                    |
 * | --------------------------------------------------- | ---------------------------------------------------- |
 * | claims                                              | the event with our claims in the ID and access tokens (client credentials: the access token) |
 * | a subject in no tenant at all (whatever it names)   | the event as sent: the tokens carry no claims of ours |
 * | custom:tenant names a tenant the subject is not in, or an unknown or suspended one; several tenants and no home; too large | throw: Cognito refuses the sign-in (the same message whether the slug exists) |
 * | store down, or slower than the query timeout        | throw a generic message: fail closed                 |
 *
 * Cognito shows a trigger's error message to the app ("PreTokenGeneration failed with error …"),
 * so, as with the HTTP stack's problem bodies, a 4xx says what is wrong and a 5xx only its
 * request id (PreTokenRefusal).
 */
import { type AppError, BadRequestError, ConflictError, DependencyUnavailableError, ForbiddenError } from '../errors.js';
import { validate } from '../http/json-body.js';
import { type ClaimProfile, tokenClaims } from '../policy/claim-profile.js';
import * as z from '../schema.js';
import { denyUnlessNoneOfOurs, type GatewayDialect } from './dialect.js';
import { explicitTenant } from './named-tenant.js';

const CLIENT_CREDENTIALS = 'TokenGeneration_ClientCredentials';
const EVENT = 'Cognito event (a pre token generation event of version 2 or 3: LambdaVersion V2_0 or V3_0)';

const text = z.string().check(z.minLength(1), z.maxLength(255));

/** What is read of the event; everything else Cognito sends (region, userName, scopes, …) passes through as sent. */
export const preTokenGenerationEvent = z.looseObject({
  version: z.enum(['2', '3']),
  triggerSource: z.enum([
    'TokenGeneration_HostedAuth',
    'TokenGeneration_Authentication',
    'TokenGeneration_NewPasswordChallenge',
    'TokenGeneration_AuthenticateDevice',
    'TokenGeneration_RefreshTokens',
    CLIENT_CREDENTIALS, // version 3 only
  ]),
  callerContext: z.looseObject({ clientId: text }),
  request: z.looseObject({
    // Empty (or absent) for client credentials: there is no user.
    userAttributes: z.optional(z.nullable(z.looseObject({ sub: z.optional(text), 'custom:tenant': z.optional(z.string()) }))),
  }),
  response: z.optional(z.nullable(z.looseObject({}))),
});
export type PreTokenGenerationEvent = z.infer<typeof preTokenGenerationEvent>;

export interface CognitoRequest {
  event: PreTokenGenerationEvent;
  /** The event exactly as Cognito sent it: "no change" hands it back untouched. */
  sent: unknown;
}

export function cognito(profile: ClaimProfile): GatewayDialect<unknown, CognitoRequest> {
  return {
    name: 'cognito',
    parse: (sent) => ({ event: validate(preTokenGenerationEvent, sent, EVENT), sent }),
    // User sign-ins: the user's `sub`, and the tenant their `custom:tenant` attribute names; client credentials: the app client.
    query({ event }) {
      const clientId = event.callerContext.clientId;
      if (event.triggerSource === CLIENT_CREDENTIALS) return { subject: clientId, clientId };
      const attributes = event.request.userAttributes;
      if (!attributes?.sub) throw new BadRequestError('The event names no user: request.userAttributes.sub is missing.');
      return { subject: attributes.sub, tenant: explicitTenant(attributes['custom:tenant'], 'The custom:tenant attribute'), clientId };
    },
    /**
     * V2/V3 take arrays as claim values in both tokens (only phone_number_verified,
     * email_verified, updated_at and address must stay scalar in the ID token), so roles and
     * entitlements stay JSON arrays, as RFC 9068 has them. A client-credentials grant issues no ID token.
     */
    allow({ event }, claims) {
      const claimsToAddOrOverride = tokenClaims(claims, profile);
      const accessTokenGeneration = { claimsToAddOrOverride };
      const details = event.triggerSource === CLIENT_CREDENTIALS ? { accessTokenGeneration } : { idTokenGeneration: { claimsToAddOrOverride }, accessTokenGeneration };
      return { status: 200, body: { ...event, response: { ...event.response, claimsAndScopeOverrideDetails: details } } };
    },
    unchanged: ({ sent }) => ({ status: 204, body: sent }),
    refuse(error) {
      if (error instanceof ConflictError && error.code === 'tenant-required') {
        return new ForbiddenError('The user belongs to several tenants and has no home tenant; their custom:tenant attribute must name the one to sign in to.', 'tenant-required');
      }
      return denyUnlessNoneOfOurs(error);
    },
  };
}

/** What Cognito receives instead of an answer; it refuses the sign-in and shows the message. */
export class PreTokenRefusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(error: AppError, requestId: string) {
    super(error.expose ? error.message : `Token enrichment ${error.status === 503 ? 'is unavailable; retry shortly' : 'failed'} (request id ${requestId}).`);
    this.name = 'PreTokenRefusal';
    this.status = error.status;
    this.code = error.code;
  }
}

/**
 * Cognito waits 5 s in all, cold start included, then retries: the lookup (secret, connection,
 * queries) gets no more than one query timeout, and never more than the invocation has left.
 */
export async function withinCognitoBudget<T>(work: Promise<T>, queryTimeoutMs: number, remainingMs: number | undefined): Promise<T> {
  const ms = Math.max(0, Math.min(queryTimeoutMs, (remainingMs ?? Infinity) - 250));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DependencyUnavailableError('database', new Error(`no answer within ${ms} ms`))), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
