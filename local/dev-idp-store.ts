/**
 * The dev IdP's storage: one map per IdP, read by oidc-provider and by its admin API. Optionally
 * backed by a file, so registered clients outlive a restart of `npm start` as they outlive one of
 * R-Auth, and the IdP and Postgres (which keeps the clients' rows) still agree afterwards.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

/** The dev IdP's state: `<model>:<id>` → payload, as oidc-provider's adapter API hands it over. */
export type MemoryStore = Map<string, Entry>;

/**
 * What a restart keeps: the clients and their registration access tokens (RFC 7592), the state
 * another system (iam-service's Postgres) holds references to. Tokens issued to clients, grants
 * and the initial access token (seeded from the caller's saved value at every start) stay in
 * memory: a restart costs a client a new token, nothing more.
 */
export const PERSISTED_MODELS = ['Client', 'RegistrationAccessToken'] as const;

const FORMAT_VERSION = 1;

interface SavedFile {
  version: typeof FORMAT_VERSION;
  /** `expiresAt` null: never expires (JSON has no Infinity). */
  entries: Record<string, { payload: AdapterPayload; expiresAt: number | null }>;
}

/**
 * A store whose entries of PERSISTED_MODELS are also kept in `file` (mode 0600: it holds client
 * secrets and registration access tokens), rewritten on every change to them: written to a
 * temporary file beside it and renamed over it, so a crash leaves the old or the new state, never
 * half of one. Synchronous on purpose: a change is saved before the IdP answers the request that
 * made it. A file that exists but cannot be read is an error, not an empty store: an IdP that
 * silently forgot its clients is what this exists to prevent.
 */
export function fileStore(file: string): MemoryStore {
  const store = new PersistedStore(file);
  store.load();
  return store;
}

class PersistedStore extends Map<string, Entry> {
  private readonly file: string;

  constructor(file: string) {
    super();
    this.file = file;
  }

  load(): void {
    let text: string | undefined;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`dev IdP cannot read its clients from ${this.file}: ${(error as Error).message}`);
    }
    if (text !== undefined) {
      const saved = parse(text, this.file);
      for (const [key, { payload, expiresAt }] of Object.entries(saved.entries)) super.set(key, { payload, expiresAt: expiresAt ?? Infinity });
    }
  }

  override set(key: string, entry: Entry): this {
    super.set(key, entry);
    if (persisted(key)) this.save();
    return this;
  }

  override delete(key: string): boolean {
    const deleted = super.delete(key);
    if (deleted && persisted(key)) this.save();
    return deleted;
  }

  override clear(): void {
    super.clear();
    this.save();
  }

  private save(): void {
    const saved: SavedFile = { version: FORMAT_VERSION, entries: {} };
    for (const [key, { payload, expiresAt }] of this) {
      if (persisted(key)) saved.entries[key] = { payload, expiresAt: Number.isFinite(expiresAt) ? expiresAt : null };
    }
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    rmSync(temporary, { force: true }); // a leftover would keep its own mode: `mode` applies on creation only
    writeFileSync(temporary, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}

function persisted(key: string): boolean {
  return PERSISTED_MODELS.some((model) => key.startsWith(`${model}:`));
}

function parse(text: string, file: string): SavedFile {
  let saved: unknown;
  try {
    saved = JSON.parse(text);
  } catch (error) {
    throw new Error(`dev IdP cannot read its clients from ${file}: ${(error as Error).message}`);
  }
  const shape = saved as Partial<SavedFile> | null;
  if (shape?.version !== FORMAT_VERSION || typeof shape.entries !== 'object' || shape.entries === null) {
    throw new Error(`dev IdP cannot read its clients from ${file}: not a version ${FORMAT_VERSION} dev IdP store`);
  }
  return shape as SavedFile;
}

/**
 * The provider's own memory adapter is shared by every provider in the process, evicts past
 * 1000 entries and warns on every start; this one belongs to one IdP and keeps what it is given.
 * Every change goes through the store's `set` and `delete`, which a file-backed store saves.
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
      const key = `${model}:${id}`;
      const entry = store.get(key);
      if (entry && live(key)) store.set(key, { ...entry, payload: { ...entry.payload, consumed: Math.floor(now() / 1000) } });
    },
    destroy: async (id) => {
      store.delete(`${model}:${id}`);
    },
    revokeByGrantId: async (grantId) => {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    },
  });
}
