/**
 * The admin API's operations that call the IdP (client create, update, delete, secret rotation),
 * one Lambda function each with the IdP's credentials: the function's ADMIN_OPERATION names which
 * (serverless/service-wide.cjs generates the functions from lib/admin/routes.ts).
 */
import { clientHandler } from '../lib/wiring/clients.js';

export const handler = clientHandler();
