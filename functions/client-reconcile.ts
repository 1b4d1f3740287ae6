/**
 * Scheduled (EventBridge): makes the IdP's clients agree with Postgres after failures no
 * request could repair (lib/admin/reconcile.ts). Returns what it did; logs one summary line.
 */
import { type ReconcileReport, reconcileClients } from '../lib/admin/reconcile.js';
import { eventFunction } from '../lib/observability/event-function.js';
import { reconcileRuntime } from '../lib/wiring/clients.js';

const app = reconcileRuntime();

export const handler = eventFunction<unknown, ReconcileReport>(app, { name: 'client-reconcile' }, async (_event, { log, requestId }) =>
  reconcileClients({ ...app, log }, { graceSeconds: app.config.clients.reconcileGraceSeconds, requestId }),
);
