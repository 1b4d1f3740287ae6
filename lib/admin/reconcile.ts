/**
 * Makes the IdP agree with Postgres, which is the source of truth for which clients exist and
 * what they look like. Run on a schedule (functions/client-reconcile.ts) and safe to run any time:
 *
 * - an IdP client we registered (our `software_id`) without a row — its registration response
 *   was lost, or the compensation after a failed commit failed too — is deleted at the IdP;
 * - a row whose client the IdP no longer has — a delete whose commit failed after the IdP
 *   deleted — is removed, with its event and audit entry, as a delete by `system:reconcile`;
 * - a client whose IdP metadata differs from its row — an update whose commit failed and
 *   whose compensation failed too, or an update applied at the IdP whose answer was lost — gets
 *   the row's metadata again: by RFC 7592 while the row's registration access token works, else
 *   through the admin API (lib/admin/client-at-idp.ts), so a stale token cannot keep the drift.
 *
 * Anything younger than the grace period is left alone: its create or delete may still be in
 * flight. An IdP that lists none of our clients while Postgres has some is not believed: reconcile
 * then does nothing and says so (a wrong admin URL must not delete every client). The IdP list is read before the rows, and a partial list is never used (the adapter
 * fails rather than return one), so a row is never removed for a client the IdP still has.
 */
import { cloudEvent } from '../events/catalog.js';
import { refOf, sealed, updateAtIdp } from './client-at-idp.js';
import { type ClientDeps, sameMetadata } from './clients.js';
import { mutate } from './mutation.js';

export const RECONCILE_ACTOR = 'system:reconcile';

export interface ReconcileReport {
  idpClients: number;
  rows: number;
  orphansDeleted: string[];
  rowsRemoved: string[];
  metadataRestored: string[];
  /** Repairs that failed this time; the next run tries again. */
  failed: string[];
  /** Set when reconcile would not act at all, and why. */
  refused?: string;
}

export async function reconcileClients(
  deps: ClientDeps,
  options: { graceSeconds: number; requestId: string; now?: Date },
): Promise<ReconcileReport> {
  const cutoff = (options.now ?? new Date()).getTime() - options.graceSeconds * 1000;
  const idpClients = await deps.inventory.list();
  const rows = await deps.store.clients.all();
  const inIdp = new Map(idpClients.map((c) => [c.client_id, c]));
  const inDb = new Set(rows.map((r) => r.clientId));
  const report: ReconcileReport = { idpClients: idpClients.length, rows: rows.length, orphansDeleted: [], rowsRemoved: [], metadataRestored: [], failed: [] };
  if (idpClients.length === 0 && rows.length > 0) {
    // An empty list where we know clients exist is far likelier a wrong admin URL or software_id
    // (or an IdP restored empty) than every client gone: removing every row would be a disaster.
    report.refused = 'the IdP lists none of our clients while Postgres has some';
    deps.log.error('client reconcile refused to act', { reason: report.refused, rows: rows.length });
    return report;
  }

  const attempt = async (clientId: string, list: string[], repair: () => Promise<unknown>) => {
    try {
      await repair();
      list.push(clientId);
    } catch (error) {
      report.failed.push(clientId);
      deps.log.error('reconcile could not repair a client', { client_id: clientId }, error);
    }
  };

  for (const orphan of idpClients) {
    if (inDb.has(orphan.client_id) || (orphan.issuedAt && orphan.issuedAt.getTime() > cutoff)) continue;
    await attempt(orphan.client_id, report.orphansDeleted, () => deps.inventory.delete(orphan.client_id));
  }

  for (const row of rows) {
    const live = inIdp.get(row.clientId);
    if (!live && row.updatedAt.getTime() <= cutoff) {
      const where = `tenants/${row.tenantSlug}/clients/${encodeURIComponent(row.clientId)}`;
      await attempt(row.clientId, report.rowsRemoved, () =>
        mutate(deps, { actor: RECONCILE_ACTOR, requestId: options.requestId }, 'client.reconcile', async (tx) => {
          await tx.clients.delete(row.tenantId, row.clientId);
          return {
            reply: { status: 204 },
            action: 'client.delete',
            target: where,
            tenant: { id: row.tenantId, slug: row.tenantSlug },
            events: [cloudEvent('citadel.iam.client.deleted', where, RECONCILE_ACTOR, { client_id: row.clientId, tenant: row.tenantSlug })],
          };
        }),
      );
    } else if (live && !sameMetadata(live, row.metadata)) {
      await attempt(row.clientId, report.metadataRestored, async () => {
        const updated = await updateAtIdp(deps, await refOf(row, deps.sealer), row.metadata);
        // The IdP may have rotated the registration access token: keep the new one.
        const fresh = updated.ref;
        if (fresh) {
          const registration = await sealed(fresh, deps.sealer);
          await deps.store.transaction('client.reconcile', (tx) => tx.clients.keepRegistration(row.tenantId, row.clientId, registration));
        }
      });
    }
  }
  deps.log.info('client reconcile finished', { ...report, orphansDeleted: report.orphansDeleted.length, rowsRemoved: report.rowsRemoved.length, metadataRestored: report.metadataRestored.length, failed: report.failed.length });
  return report;
}
