/**
 * The one module that owns `pg`. A small pool per Lambda container (RDS Proxy multiplexes
 * the fleet), timeouts on connect and query, and an `error` listener so a connection the
 * server drops while idle never crashes the process. No session state is ever set, so a
 * pooler behind us is never pinned; named statements are opt-in (`DB_NAMED_STATEMENTS`).
 */
import pg from 'pg';
import { AppError, BadRequestError, ConflictError, DependencyUnavailableError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { DatabaseCredentials, Source } from '../../secrets/credentials.js';

export interface DatabaseOptions {
  /** The endpoint; with `credentials`, its user and password are replaced by the secret's. */
  url: string | undefined;
  /** From Secrets Manager (RDS format); re-read when the server refuses them (28P01), then reconnects. */
  credentials?: Source<DatabaseCredentials> | undefined;
  poolMax: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  queryTimeoutMs: number;
  namedStatements: boolean;
  log: Logger;
  metrics: Pick<Metrics, 'databaseError'>;
}

export type Row = Record<string, unknown>;

export interface Queryable {
  /** `operation` names the query in metrics and logs, and names the statement when enabled. */
  query<R extends Row = Row>(operation: string, text: string, values?: readonly unknown[]): Promise<R[]>;
}

export interface TransactionOptions {
  /** Named in the log line of a retry. */
  requestId?: string | undefined;
  /**
   * Asked after a deadlock (40P01) or serialization failure (40001): true runs the whole
   * transaction once more, from BEGIN, on the same connection. Only the caller knows whether
   * `work` did something outside the database that must not happen twice (an IdP call).
   */
  retry?: (() => boolean) | undefined;
}

export interface Database extends Queryable {
  /** One client from BEGIN to COMMIT/ROLLBACK, released in `finally`. */
  transaction<T>(operation: string, work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  end(): Promise<void>;
}

/**
 * A deadlock (40P01) or serialization failure (40001): the server rolled the transaction back so
 * another could go on. Nothing is wrong with the database and a new attempt usually succeeds, so
 * a transaction that retries it counts nothing; one that gives up (or a query outside any
 * transaction) counts it in `database_errors_total` like any other failure and answers 503.
 */
export class LockConflictError extends DependencyUnavailableError {
  readonly sqlState: string;
  readonly operation: string;
  constructor(operation: string, cause: pg.DatabaseError) {
    super('database', cause);
    this.sqlState = cause.code ?? '40001';
    this.operation = operation;
  }
}

const conflictsOnLocks = (error: unknown): error is pg.DatabaseError =>
  error instanceof pg.DatabaseError && (error.code === '40P01' || error.code === '40001');

/**
 * SQLSTATE class 23: the statement broke a constraint — a conflict with the data, not a
 * database failure. Stores translate the ones they expect into precise errors; any other
 * still reaches the caller as a 409, never as a 500.
 */
export class ConstraintViolationError extends ConflictError {
  readonly sqlState: string;
  readonly constraint: string | undefined;
  constructor(cause: pg.DatabaseError) {
    super('The change conflicts with existing data.');
    this.cause = cause;
    this.sqlState = cause.code ?? '23000';
    this.constraint = cause.constraint;
  }
}

export const UNIQUE_VIOLATION = '23505';

export const isConstraintViolation = (error: unknown, sqlState?: string): error is ConstraintViolationError =>
  error instanceof ConstraintViolationError && (sqlState === undefined || error.sqlState === sqlState);

const violatesConstraint = (error: unknown): error is pg.DatabaseError =>
  error instanceof pg.DatabaseError && typeof error.code === 'string' && error.code.startsWith('23');

/**
 * SQLSTATE class 22: a value the database cannot take (bad encoding, out of range). Input
 * validation should stop these first; if one slips through it is the caller's 400, not an outage.
 */
export class InvalidValueError extends BadRequestError {
  constructor(cause: pg.DatabaseError) {
    super('The request carries a value the database cannot store.');
    this.cause = cause;
  }
}

const isDataException = (error: unknown): error is pg.DatabaseError =>
  error instanceof pg.DatabaseError && typeof error.code === 'string' && error.code.startsWith('22');

/** `url` with the secret's user and password (without a URL: the secret's endpoint too). */
export function databaseUrlWith(url: string | undefined, secret: DatabaseCredentials): string {
  const target = new URL(url ?? `postgres://${secret.host ?? 'localhost'}:${secret.port ?? 5432}/${encodeURIComponent(secret.dbname ?? 'postgres')}`);
  target.username = encodeURIComponent(secret.username);
  target.password = encodeURIComponent(secret.password);
  return target.href;
}

/** SQLSTATE class 28: the server refused our credentials (28P01 password, 28000 e.g. a dropped role). */
const refusesCredentials = (error: unknown) => error instanceof pg.DatabaseError && (error.code === '28P01' || error.code === '28000');

export function createDatabase(options: DatabaseOptions): Database {
  const newPool = (connectionString: string) => {
    const pool = new pg.Pool({
      connectionString,
      max: options.poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs,
      idleTimeoutMillis: options.idleTimeoutMs,
      query_timeout: options.queryTimeoutMs,
      application_name: 'iam-service',
      allowExitOnIdle: true,
    });
    pool.on('error', (error) => options.log.warn('idle database connection dropped', {}, error));
    return pool;
  };

  const connectionString = async (fresh: boolean): Promise<string> =>
    options.credentials ? databaseUrlWith(options.url, await options.credentials({ fresh })) : options.url!;

  // Without a secret the pool exists at once (connecting lazily, as before); with one, on first use.
  // `ready` is the open pool once known: the hot path reads it without awaiting anything.
  let ready: pg.Pool | undefined;
  const open = (url: string) => {
    ready = newPool(url);
    return { pool: ready, connectionString: url };
  };
  let current: Promise<{ pool: pg.Pool; connectionString: string }> | undefined = options.credentials ? undefined : Promise.resolve(open(options.url!));
  const opened = () =>
    (current ??= connectionString(false)
      .then(open)
      .catch((error: unknown) => {
        current = undefined;
        throw error;
      }));

  /**
   * After the server refused our credentials: read the secret again and, if it changed (it was
   * rotated), move to a new pool; the old one finishes what is queued on it, then closes.
   * Concurrent callers share one renewal. True when retrying can help.
   */
  let renewing: Promise<boolean> | undefined;
  const renew = (stale: pg.Pool): Promise<boolean> =>
    (renewing ??= (async () => {
      const now = await opened();
      if (now.pool !== stale) return true; // another caller renewed already
      if (!options.credentials) return false;
      const url = await connectionString(true);
      if (url === now.connectionString) return false;
      current = Promise.resolve(open(url));
      options.log.info('database credentials were rotated; reconnecting with the new ones');
      // Not at once: queries already queued on the old pool would wait on it until they time
      // out. Its live connections (still valid) serve them; then it closes.
      setTimeout(() => void stale.end().catch(() => undefined), options.connectTimeoutMs + options.queryTimeoutMs).unref();
      return true;
    })().finally(() => {
      renewing = undefined;
    }));

  /** Runs `use` on the pool; once more on a fresh pool when the server refused the credentials. */
  const withPool = async <T>(use: (pool: pg.Pool) => Promise<T>): Promise<T> => {
    const pool = ready ?? (await opened()).pool;
    try {
      return await use(pool);
    } catch (error) {
      if (refusesCredentials(error) && (await renew(pool))) return use((await opened()).pool);
      throw error;
    }
  };

  const count = (operation: string, error: unknown) => {
    options.metrics.databaseError(operation);
    options.log.error('database operation failed', { operation }, error);
  };
  const fail = async (operation: string, error: unknown): Promise<never> => {
    if (error instanceof AppError) throw error; // e.g. the secret store is unavailable: already said
    if (violatesConstraint(error)) throw new ConstraintViolationError(error);
    if (isDataException(error)) {
      options.log.warn('database refused a value', { operation, sqlstate: error.code });
      throw new InvalidValueError(error);
    }
    // Counted by the transaction, once it knows whether a retry saved the request.
    if (conflictsOnLocks(error)) throw new LockConflictError(operation, error);
    count(operation, error);
    throw new DependencyUnavailableError('database', error);
  };

  /**
   * A named statement's name and text, made once per operation. pg copies a query config's own
   * properties before use (its cloneQueryConfig, ~1 µs a property) and keeps the prototype: with
   * name and text inherited from this, only `values` is copied.
   */
  const statements = new Map<string, { readonly name: string; readonly text: string }>();
  const statement = (operation: string, text: string) => {
    let found = statements.get(operation);
    if (found?.text !== text) statements.set(operation, (found = { name: operation, text }));
    return found;
  };

  const send = async <R extends Row>(client: pg.Pool | pg.PoolClient, operation: string, text: string, values: readonly unknown[] = []) => {
    // pg reads `values` and never changes them. An unnamed query goes as (text, values): no config
    // object to copy at all.
    const params = values as unknown[];
    if (!options.namedStatements) return (await client.query<R>(text, params)).rows;
    const config: pg.QueryConfig = Object.create(statement(operation, text));
    config.values = params;
    return (await client.query<R>(config)).rows;
  };
  const run = async <R extends Row>(client: pg.PoolClient, operation: string, text: string, values?: readonly unknown[]): Promise<R[]> => {
    try {
      return await send<R>(client, operation, text, values);
    } catch (error) {
      return fail(operation, error);
    }
  };

  return {
    async query<R extends Row>(operation: string, text: string, values?: readonly unknown[]) {
      try {
        // Refused credentials fail at connect, before the query is sent: safe to run it again.
        return await withPool((pool) => send<R>(pool, operation, text, values));
      } catch (error) {
        if (conflictsOnLocks(error)) count(operation, error); // no transaction here to retry it
        return fail(operation, error);
      }
    },
    async transaction(operation, work, { requestId, retry } = {}) {
      let client: pg.PoolClient;
      try {
        client = await withPool((pool) => pool.connect());
      } catch (error) {
        return fail(operation, error);
      }
      let broken: unknown;
      // A connection that dies while checked out emits 'error' on the client, not the pool;
      // without a listener that would be an uncaught exception (the function crashes).
      const dropped = (error: Error) => {
        broken = error;
        options.log.warn('database connection dropped during a transaction', { operation }, error);
      };
      client.on('error', dropped);
      const tx: Queryable = { query: (op, text, values) => run(client, op, text, values) };
      try {
        for (let attempt = 1; ; attempt += 1) {
          try {
            await run(client, `${operation}.begin`, 'BEGIN');
            const result = await work(tx);
            await run(client, `${operation}.commit`, 'COMMIT');
            return result;
          } catch (error) {
            if (!broken) await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
            if (!(error instanceof LockConflictError)) throw error;
            // Once, and only when the caller says the work can run again; a second conflict is a
            // real problem (a lock order broken somewhere) and pages like any database failure.
            if (attempt === 1 && !broken && retry?.()) {
              options.log.warn('database transaction retried after a lock conflict', { operation, failed: error.operation, sqlstate: error.sqlState, request_id: requestId });
              continue;
            }
            count(error.operation, error.cause);
            throw error;
          }
        }
      } finally {
        client.off('error', dropped);
        // A client whose rollback failed is in an unknown state: destroy it, never reuse it.
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    end: async () => {
      const last = current;
      current = undefined;
      ready = undefined;
      if (last) await (await last.catch(() => undefined))?.pool.end();
    },
  };
}
