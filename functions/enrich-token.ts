/**
 * POST /system/enrich-token — the gateway's call on every login: subject → claims.
 * Reached through a Function URL (AWS_IAM) or with an X-API-Key.
 */
import * as z from '../lib/schema.js';
import { apiKeyOrIamCaller } from '../lib/http/caller-auth.js';
import { httpFunction } from '../lib/http/stack.js';
import { enrichToken } from '../lib/policy/enrich-token.js';
import { runtime } from '../lib/runtime.js';

const printable = (max: number) =>
  z.string().check(z.minLength(1), z.maxLength(max), z.regex(/^[^\u0000-\u001f\u007f]+$/, 'must be printable text'));

export const enrichTokenRequest = z.strictObject({
  subject: printable(255),
  tenant: z.optional(z.string().check(z.regex(/^[a-z0-9-]{2,63}$/, 'must be a tenant slug ([a-z0-9-]{2,63})'))),
  client_id: z.optional(printable(255)),
});

const app = runtime();

export const handler = httpFunction(
  app,
  {
    name: '/system/enrich-token',
    body: enrichTokenRequest,
    maxBodyBytes: 4096,
    authenticate: apiKeyOrIamCaller(app.credentials.enrichApiKeys),
  },
  async (_event, { body }) => ({
    status: 200,
    body: await enrichToken(app, { subject: body.subject, tenant: body.tenant, clientId: body.client_id }),
  }),
);
