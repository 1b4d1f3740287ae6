/** POST /tenants/{tenant}/clients — registers the client in the IdP; the secret is in this answer only. */
import { clientMetadataError, createClient } from '../lib/admin/clients.js';
import { createClientBody } from '../lib/admin/schemas.js';
import { clientRuntime } from '../lib/wiring/clients.js';
import { adminFunction } from '../lib/admin/admin-function.js';

const app = clientRuntime();

export const handler = adminFunction(app, 'createClient', { body: createClientBody, idempotent: true, invalidBody: clientMetadataError }, ({ mutation, params, body }) =>
  createClient(app, mutation, params.tenant, body),
);
