/** PATCH /tenants/{tenant}/clients/{client} — metadata (changed in the IdP too) and roles. Requires If-Match. */
import { clientMetadataError, updateClient } from '../lib/admin/clients.js';
import { updateClientBody } from '../lib/admin/schemas.js';
import { clientRuntime } from '../lib/wiring/clients.js';
import { adminFunction } from '../lib/admin/admin-function.js';

const app = clientRuntime();

export const handler = adminFunction(app, 'updateClient', { body: updateClientBody, invalidBody: clientMetadataError }, ({ mutation, params, ifMatch, body }) =>
  updateClient(app, mutation, params.tenant, params.client, ifMatch, body),
);
