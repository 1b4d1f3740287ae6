/** POST /tenants/{tenant}/clients/{client}/secret — a new secret, returned once; the old one stops working. */
import { rotateClientSecret } from '../lib/admin/clients.js';
import { clientRuntime } from '../lib/wiring/clients.js';
import { adminFunction } from '../lib/admin/admin-function.js';

const app = clientRuntime();

export const handler = adminFunction(app, 'rotateClientSecret', {}, ({ mutation, params }) =>
  rotateClientSecret(app, mutation, params.tenant, params.client),
);
