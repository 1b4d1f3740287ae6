/**
 * What the admin use cases need from outside, one interface per concept: storage (the Postgres
 * adapters implement it over one transaction; every tenant-scoped call takes the tenant first)
 * the caller's proof (an access token the IdP issued) and the sealing of registration access
 * tokens. The IdP's side of a client is in ./idp-admin.ts.
 */
import type { CloudEvent } from '../events/catalog.js';
import type { ClientMetadata } from './idp-admin.js';
import type { AuditEntry, Client, Page, PageRequest, Role, Tenant, TenantStatus, UserMapping } from './model.js';

/**
 * Row lock strength, as PostgreSQL names it (`FOR SHARE`, `FOR NO KEY UPDATE`, `FOR UPDATE`);
 * `true` is `update`. Which use case takes which, and in what order: lib/admin/lock-order.ts.
 */
export type LockMode = 'share' | 'no-key-update' | 'update';

export interface Lock {
  lock?: boolean | LockMode;
}

export interface TenantRepository {
  create(input: { slug: string; name: string; status: TenantStatus }): Promise<Tenant>;
  /** `lock` holds the row until the transaction ends, so a version check cannot race. */
  get(slug: string, options?: Lock): Promise<Tenant | undefined>;
  list(page: PageRequest): Promise<Page<Tenant>>;
  update(slug: string, change: { name?: string | undefined; status?: TenantStatus | undefined }): Promise<Tenant>;
  delete(slug: string): Promise<void>;
  /** Clients registered in the IdP keep a tenant alive: they must be deleted there first. */
  countClients(tenantId: string): Promise<number>;
  /** Subjects holding `iam:*` in the platform tenant, as this transaction sees them. */
  countPlatformAdmins(): Promise<number>;
}

export interface RoleRepository {
  create(tenantId: string, input: { name: string; description: string; permissions: string[] }): Promise<Role>;
  get(tenantId: string, name: string, options?: Lock): Promise<Role | undefined>;
  list(tenantId: string, page: PageRequest): Promise<Page<Role>>;
  update(tenantId: string, name: string, change: { description?: string | undefined; permissions?: string[] | undefined }): Promise<Role>;
  delete(tenantId: string, name: string): Promise<void>;
  /** Names among `names` that are not roles of the tenant. */
  missing(tenantId: string, names: readonly string[]): Promise<string[]>;
  /**
   * Locks the named roles `FOR SHARE`, in id order, until the transaction ends: they can be
   * assigned but not changed or deleted meanwhile. Names that are not roles are skipped.
   */
  lockShared(tenantId: string, names: readonly string[]): Promise<void>;
}

export interface UserMappingRepository {
  get(tenantId: string, subject: string, options?: Lock): Promise<UserMapping | undefined>;
  list(tenantId: string, page: PageRequest): Promise<Page<UserMapping>>;
  /** Creates the mapping or replaces its roles; returns it and whether it was created. */
  put(tenantId: string, subject: string, roles: readonly string[]): Promise<{ mapping: UserMapping; created: boolean }>;
  delete(tenantId: string, subject: string): Promise<void>;
  /**
   * Whether the subject is an OAuth client of any tenant. Not tenant-scoped on purpose: a client
   * belongs to the tenant that created it, and no tenant may map it as a user (README, "Security").
   */
  isClientAnywhere(subject: string): Promise<boolean>;
}

export interface ClientRepository {
  /** Inserts the client and its subject row (type `client`) with these roles. */
  create(tenantId: string, input: Pick<Client, 'clientId' | 'metadata' | 'roles' | 'registration' | 'createdBy'>): Promise<Client>;
  get(tenantId: string, clientId: string, options?: Lock): Promise<Client | undefined>;
  list(tenantId: string, page: PageRequest): Promise<Page<Client>>;
  /** Replaces what `change` names and bumps the version. */
  update(
    tenantId: string,
    clientId: string,
    change: { metadata?: ClientMetadata | undefined; roles?: readonly string[] | undefined; registration?: Client['registration'] | undefined },
  ): Promise<Client>;
  /**
   * Stores the IdP's latest management credentials without touching the version: they are not
   * part of the resource, and the IdP may rotate them on any RFC 7592 call.
   */
  keepRegistration(tenantId: string, clientId: string, registration: Client['registration']): Promise<void>;
  /** Removes the client and its subject row (and so its roles). */
  delete(tenantId: string, clientId: string): Promise<void>;
  /** Every client of every tenant with its tenant's slug: what reconcile compares with the IdP. */
  all(): Promise<Array<Client & { tenantSlug: string }>>;
}

export interface AuditLog {
  append(entry: Omit<AuditEntry, 'id' | 'occurredAt' | 'count'>): Promise<void>;
  list(filter: { tenantId?: string | undefined }, page: PageRequest): Promise<Page<AuditEntry>>;
}

export interface Outbox {
  add(event: CloudEvent): Promise<void>;
}

/** The first answer to an idempotent create, replayed as it was (status, body, ETag, Location). */
export interface StoredResponse {
  status: number;
  body: unknown;
  version?: number | undefined;
  location?: string | undefined;
}

export interface IdempotencyKeys {
  /**
   * Claims `key` in `scope` for a request with this hash. Returns the stored response of an
   * earlier request with the same key, 'mismatch' when that request had another body, or
   * undefined when the key is new (the claim then commits or rolls back with the transaction).
   */
  claim(scope: string, key: string, requestHash: string): Promise<StoredResponse | 'mismatch' | undefined>;
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
}

/** The store's connection as an adapter sees it; opaque to the use cases. */
export interface StoreConnection {
  readonly storeConnection: unique symbol;
}

/**
 * A resource's own repository, declared with its use cases and built by its adapter
 * (`postgresRepository(…)`): the store builds it on its connection, or on the transaction's, with
 * `use` — so a new resource registers its repository nowhere else.
 */
export interface Repository<R> {
  build(connection: StoreConnection): R;
}

export interface PolicyRepositories {
  tenants: TenantRepository;
  roles: RoleRepository;
  users: UserMappingRepository;
  clients: ClientRepository;
  audit: AuditLog;
  outbox: Outbox;
  idempotency: IdempotencyKeys;
  /** `repository` on this connection (inside a transaction: on the transaction's). */
  use<R>(repository: Repository<R>): R;
}

export interface TransactionOptions {
  /** Named in the log line of a retry. */
  requestId?: string | undefined;
  /**
   * Asked after a deadlock or serialization failure: true re-runs the whole transaction once.
   * False when `work` already did something outside the database (an IdP call).
   */
  retry?: (() => boolean) | undefined;
}

export interface PolicyStore extends PolicyRepositories {
  /** Runs `work` in one transaction: the change, its event and its audit row commit together. */
  transaction<T>(operation: string, work: (tx: PolicyRepositories) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

/** Which tenants a subject administers, from the same policy data enrich-token reads. */
export interface AdminScopeReader {
  adminScope(subject: string): Promise<AdminScope>;
}

export interface AdminScope {
  /** `iam:*` in the platform tenant. */
  platform: boolean;
  /** Slugs of active tenants where the subject holds `iam:admin` or `iam:*`. */
  tenants: ReadonlySet<string>;
}

/** Seals and opens registration access tokens at rest (lib/crypto/token-sealer.ts). */
export interface TokenSealer {
  seal(token: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

/** The admin API's caller, as proven by a bearer access token from the IdP. */
export interface AccessTokenVerifier {
  /**
   * Resolves the token's subject and its verified claims, or throws UnauthorizedError
   * (DependencyUnavailableError if the IdP is down).
   */
  verify(token: string): Promise<{ subject: string; claims: Readonly<Record<string, unknown>> }>;
}
