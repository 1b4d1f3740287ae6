/** DELETE /tenants/{tenant}/users/{subject} */
import { deleteUser } from '../lib/admin/users.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'deleteUser', {}, ({ mutation, params, ifMatch }) =>
  deleteUser(app, mutation, params.tenant, params.subject, ifMatch),
);
