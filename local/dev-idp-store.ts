/** The dev IdP's storage: one in-memory map per IdP, read by oidc-provider and by its admin API. */
import type { Adapter, AdapterPayload } from 'oidc-provider';

/** The dev IdP's state: `<model>:<id>` → payload, as oidc-provider's adapter API hands it over. */
export type MemoryStore = Map<string, { payload: AdapterPayload; expiresAt: number }>;

/**
 * The provider's own memory adapter is shared by every provider in the process, evicts past
 * 1000 entries and warns on every start; this one belongs to one IdP and keeps what it is given.
 */
export function memoryAdapter(store: MemoryStore): (model: string) => Adapter {
  const now = () => Date.now();
  const live = (key: string) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= now()) store.delete(key);
    return entry && entry.expiresAt > now() ? entry.payload : undefined;
  };
  const findBy = async (model: string, match: (payload: AdapterPayload) => boolean) => {
    for (const key of store.keys()) {
      const payload = key.startsWith(`${model}:`) ? live(key) : undefined;
      if (payload && match(payload)) return payload;
    }
    return undefined;
  };
  return (model) => ({
    upsert: async (id, payload, expiresIn) => {
      store.set(`${model}:${id}`, { payload, expiresAt: expiresIn ? now() + expiresIn * 1000 : Infinity });
    },
    find: async (id) => live(`${model}:${id}`),
    findByUid: (uid) => findBy(model, (payload) => payload.uid === uid),
    findByUserCode: (userCode) => findBy(model, (payload) => payload.userCode === userCode),
    consume: async (id) => {
      const payload = live(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(now() / 1000);
    },
    destroy: async (id) => {
      store.delete(`${model}:${id}`);
    },
    revokeByGrantId: async (grantId) => {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    },
  });
}
