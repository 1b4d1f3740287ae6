/** DELETE /tenants/{tenant}/clients/{client} — from the IdP, then from the tenant. */
import { deleteClient } from '../lib/admin/clients.js';
import { clientRuntime } from '../lib/wiring/clients.js';
import { adminFunction } from '../lib/admin/admin-function.js';

const app = clientRuntime();

export const handler = adminFunction(app, 'deleteClient', {}, ({ mutation, params, ifMatch }) =>
  deleteClient(app, mutation, params.tenant, params.client, ifMatch),
);
