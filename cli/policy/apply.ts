/**
 * Carrying out a plan, one change at a time in the plan's order, each with If-Match (the ETag
 * read by the plan) and its Idempotency-Key. The first failure stops the run: later changes may
 * depend on it (a mapping on its role). A re-run plans again from what the API then holds, so
 * it does what is left and nothing twice.
 */
import { createHash } from 'node:crypto';
import { type AdminApi, type Answer, ApiProblem, seg } from './admin-api.js';
import type { Change, Plan } from './plan.js';
import { changeLabel } from './render.js';
import type { SecretsFile } from './secrets-file.js';

export interface ApplyResult {
  applied: Change[];
  failed?: { change: Change; error: Error };
}

export async function applyPlan(api: AdminApi, plan: Plan, secrets: SecretsFile | undefined, print: (line: string) => void): Promise<ApplyResult> {
  const applied: Change[] = [];
  for (const change of plan.changes) {
    try {
      const answer = await send(api, change);
      if (change.kind === 'client' && change.op === 'create') {
        const { client_id: clientId, client_secret: secret } = answer.body as { client_id: string; client_secret?: string };
        if (secret !== undefined) secrets!.add({ tenant: change.tenant, client_id: clientId, client_name: change.name, client_secret: secret });
        print(`${changeLabel(change)}: created as ${clientId}${secret === undefined ? ' by an earlier run (its secret was returned then, once: rotate it if it was lost)' : `, secret written to ${secrets!.path}`}`);
      } else {
        print(`${changeLabel(change)}: ${change.op === 'create' ? 'created' : change.op === 'update' ? 'updated' : 'deleted'}`);
      }
      applied.push(change);
    } catch (error) {
      print(`${changeLabel(change)}: FAILED: ${(error as Error).message}`);
      return { applied, failed: { change, error: error as Error } };
    }
  }
  return { applied };
}

/**
 * One change. An Idempotency-Key lives for 24 h: when a create is answered with a replay of an
 * earlier run's create whose resource has been deleted since, it is sent again under a key
 * derived from that earlier answer, so the create happens instead of being silently replayed.
 */
async function send(api: AdminApi, change: Change): Promise<Answer> {
  let key = change.idempotencyKey;
  for (let attempt = 0; ; attempt++) {
    const answer = await api.request(change.method, change.path, { body: change.body, ifMatch: change.etag, idempotencyKey: key });
    if (change.op !== 'create' || !answer.replayed || attempt === 3 || (await exists(api, change, answer))) return answer;
    key = `${change.idempotencyKey.slice(0, 40)}-${createHash('sha256').update(JSON.stringify(answer.body)).digest('base64url').slice(0, 16)}`;
  }
}

async function exists(api: AdminApi, change: Change, answer: Answer): Promise<boolean> {
  const body = answer.body as { slug?: string; name?: string; client_id?: string };
  const path =
    change.kind === 'tenant' ? `/tenants/${seg(change.tenant)}`
    : change.kind === 'role' ? `/tenants/${seg(change.tenant)}/roles/${seg(String(body.name))}`
    : change.kind === 'client' ? `/tenants/${seg(change.tenant)}/clients/${seg(String(body.client_id))}`
    : undefined;
  if (path === undefined) return true;
  try {
    await api.request('GET', path);
    return true;
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) return false;
    throw error;
  }
}
