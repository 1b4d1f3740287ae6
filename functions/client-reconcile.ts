/**
 * Scheduled (EventBridge): makes the IdP's clients agree with Postgres after failures no
 * request could repair (lib/admin/reconcile.ts). Returns what it did; logs one summary line.
 */
import { randomUUID } from 'node:crypto';
import { type ReconcileReport, reconcileClients } from '../lib/admin/reconcile.js';
import { reconcileRuntime } from '../lib/wiring/clients.js';

const app = reconcileRuntime();

export async function handler(_event?: unknown, context?: { awsRequestId?: string }): Promise<ReconcileReport> {
  return reconcileClients(app, { graceSeconds: app.config.clients.reconcileGraceSeconds, requestId: context?.awsRequestId ?? randomUUID() });
}
