/**
 * POST /system/enrich-token — the gateway's call on every login: subject → claims.
 * Reached through a Function URL (AWS_IAM) or with an X-API-Key. The body's shape says which
 * gateway is calling (lib/gateway/dialects.ts): the native request, Ory Hydra's token hook or
 * Ory Oathkeeper's hydrator; all three run the same lookup and fail closed (README, "Security").
 */
import { AppError } from '../lib/errors.js';
import {
  deny,
  dialectOf,
  hydraAnswer,
  hydraQuery,
  hydraRefusal,
  hydraRequest,
  oathkeeperAnswer,
  oathkeeperQuery,
  oathkeeperSession,
  tenantSlug,
} from '../lib/gateway/dialects.js';
import { apiKeyOrIamCaller } from '../lib/http/caller-auth.js';
import { validate } from '../lib/http/json-body.js';
import { httpFunction } from '../lib/http/stack.js';
import { enrichToken } from '../lib/policy/enrich-token.js';
import { runtime } from '../lib/wiring/base.js';
import * as z from '../lib/schema.js';

const printable = (max: number) =>
  z.string().check(z.minLength(1), z.maxLength(max), z.visibleText);

export const enrichTokenRequest = z.strictObject({
  subject: printable(255),
  tenant: z.optional(tenantSlug),
  client_id: z.optional(printable(255)),
});

const app = runtime();
const profile = app.config.claims;

export const handler = httpFunction(
  app,
  {
    name: '/system/enrich-token',
    // Any JSON object; the dialect's own schema validates it below.
    body: z.looseObject({}),
    // Hydra's session and Oathkeeper's headers are larger than the native request.
    maxBodyBytes: 64 * 1024,
    // Oathkeeper's hydrator can only send the key as a Basic password.
    authenticate: apiKeyOrIamCaller(app.credentials.enrichApiKeys, { basic: true }),
  },
  async (_event, context) => {
    const dialect = dialectOf(context.body);
    context.dialect = dialect;
    if (dialect === 'hydra') {
      const query = hydraQuery(validate(hydraRequest, context.body));
      if (!query) return { status: 204 };
      try {
        return { status: 200, body: hydraAnswer(await enrichToken(app, query), profile) };
      } catch (error) {
        const refusal = error instanceof AppError ? hydraRefusal(error) : error;
        if (refusal === 'no-change') return { status: 204 };
        throw refusal;
      }
    }
    if (dialect === 'oathkeeper') {
      const session = validate(oathkeeperSession, context.body);
      const query = oathkeeperQuery(session);
      if (!query) return { status: 200, body: session };
      try {
        return { status: 200, body: oathkeeperAnswer(session, await enrichToken(app, query), profile) };
      } catch (error) {
        // Oathkeeper knows allow and deny: every refusal is a 403, whatever the tenant's existence.
        throw error instanceof AppError ? deny(error) : error;
      }
    }
    const body = validate(enrichTokenRequest, context.body);
    return { status: 200, body: await enrichToken(app, { subject: body.subject, tenant: body.tenant, clientId: body.client_id }) };
  },
);
