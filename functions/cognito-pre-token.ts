/**
 * Amazon Cognito's pre token generation trigger, event versions 2 and 3 (the user pool's
 * LambdaVersion V2_0 or V3_0): before the user pool issues tokens it calls this function, which
 * adds the subject's tenant, roles and permissions through enrich-token's core and claim profile.
 * No route and no Function URL: the user pool's LambdaConfig names the function (README, "Cognito").
 *
 * | outcome                                             | answer to Cognito                                    |
 * | --------------------------------------------------- | ---------------------------------------------------- |
 * | claims                                              | the event with our claims in the ID and access tokens (client credentials: the access token) |
 * | a subject in no tenant at all (whatever it names)   | the event as sent: the tokens carry no claims of ours |
 * | custom:tenant names a tenant the subject is not in, or an unknown or suspended one; several tenants and no home; too large | throw: Cognito refuses the sign-in (the same message whether the slug exists) |
 * | store down, or slower than the query timeout        | throw a generic message: fail closed                 |
 *
 * Cognito shows a trigger's error message to the app ("PreTokenGeneration failed with error …"),
 * so, as with the HTTP stack's problem bodies, a 4xx says what is wrong and a 5xx only its request id.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { AppError, BadRequestError, ConflictError, DependencyUnavailableError, ForbiddenError } from '../lib/errors.js';
import { deny, noneOfOurs, tenantSlug } from '../lib/gateway/dialects.js';
import { validate } from '../lib/http/json-body.js';
import { toAppError } from '../lib/http/problem.js';
import { type ClaimProfile, tokenClaims } from '../lib/policy/claim-profile.js';
import type { Claims, ClaimsQuery } from '../lib/policy/claims.js';
import { enrichToken } from '../lib/policy/enrich-token.js';
import { runtime } from '../lib/wiring/base.js';
import * as z from '../lib/schema.js';

const CLIENT_CREDENTIALS = 'TokenGeneration_ClientCredentials';
const HANDLER = 'cognito-pre-token-generation';

const app = runtime();
const profile = app.config.claims;

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

/** User sign-ins: the user's `sub`, and the tenant their `custom:tenant` attribute names; client credentials: the app client. */
export function cognitoQuery(event: PreTokenGenerationEvent): ClaimsQuery {
  const clientId = event.callerContext.clientId;
  if (event.triggerSource === CLIENT_CREDENTIALS) return { subject: clientId, clientId };
  const attributes = event.request.userAttributes;
  if (!attributes?.sub) throw new BadRequestError('The event names no user: request.userAttributes.sub is missing.');
  const tenant = attributes['custom:tenant'];
  if (tenant === undefined || tenant === '') return { subject: attributes.sub, clientId };
  if (!z.safeParse(tenantSlug, tenant).success) throw new ForbiddenError('The custom:tenant attribute is not a tenant slug.', 'tenant-invalid');
  return { subject: attributes.sub, tenant, clientId };
}

/**
 * The event with our claims. V2/V3 take arrays as claim values in both tokens (only
 * phone_number_verified, email_verified, updated_at and address must stay scalar in the ID
 * token), so roles and entitlements stay JSON arrays, as RFC 9068 has them. A client-credentials
 * grant issues no ID token.
 */
export function cognitoAnswer(event: PreTokenGenerationEvent, claims: Claims, profile: ClaimProfile): PreTokenGenerationEvent {
  const claimsToAddOrOverride = tokenClaims(claims, profile);
  const accessTokenGeneration = { claimsToAddOrOverride };
  const details = event.triggerSource === CLIENT_CREDENTIALS ? { accessTokenGeneration } : { idTokenGeneration: { claimsToAddOrOverride }, accessTokenGeneration };
  return { ...event, response: { ...event.response, claimsAndScopeOverrideDetails: details } };
}

/** As for Hydra: a subject in no tenant at all is no change; every other refusal denies (403). */
export function cognitoRefusal(error: AppError): AppError | 'no-change' {
  if (noneOfOurs(error)) return 'no-change';
  if (error instanceof ConflictError && error.code === 'tenant-required') {
    return new ForbiddenError('The user belongs to several tenants and has no home tenant; their custom:tenant attribute must name the one to sign in to.', 'tenant-required');
  }
  return deny(error);
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
async function withinBudget<T>(work: Promise<T>, context: Context): Promise<T> {
  const ms = Math.max(0, Math.min(app.config.database.queryTimeoutMs, context.getRemainingTimeInMillis() - 250));
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

export async function handler(event: unknown, context: Context): Promise<unknown> {
  const startedAt = performance.now();
  const requestId = context.awsRequestId || randomUUID();
  let status = 200;
  try {
    const parsed = validate(preTokenGenerationEvent, event, 'Cognito event (a pre token generation event of version 2 or 3: LambdaVersion V2_0 or V3_0)');
    const query = cognitoQuery(parsed);
    try {
      return cognitoAnswer(parsed, await withinBudget(enrichToken(app, query), context), profile);
    } catch (error) {
      const refusal = error instanceof AppError ? cognitoRefusal(error) : error;
      if (refusal !== 'no-change') throw refusal;
      status = 204;
      return event;
    }
  } catch (error) {
    const failure = toAppError(error);
    status = failure.status;
    const log = app.log.child({ request_id: requestId, handler: HANDLER });
    // A deny is policy working (info); an event we cannot read is a misconfigured user pool (warn).
    if (failure.status === 403) log.info('token refused', { status, code: failure.code });
    else if (failure.expose) log.warn('token refused', { status, code: failure.code, detail: failure.message });
    else log.error('request failed', { status, code: failure.code }, error);
    throw new PreTokenRefusal(failure, requestId);
  } finally {
    app.metrics.http({ handler: HANDLER, dialect: 'cognito', status, durationSeconds: (performance.now() - startedAt) / 1e3, requestId });
  }
}
