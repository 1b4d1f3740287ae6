/**
 * The one module that owns `pg`. A small pool per Lambda container (RDS Proxy multiplexes
 * the fleet), timeouts on connect and query, and an `error` listener so a connection the
 * server drops while idle never crashes the process. No session state is ever set, so a
 * pooler behind us is never pinned; named statements are opt-in (`DB_NAMED_STATEMENTS`).
 */
import pg from 'pg';
import { BadRequestError, ConflictError, DependencyUnavailableError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';

export interface DatabaseOptions {
  url: string;
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

export interface Database extends Queryable {
  /** One client from BEGIN to COMMIT/ROLLBACK, released in `finally`. */
  transaction<T>(operation: string, work: (tx: Queryable) => Promise<T>): Promise<T>;
  end(): Promise<void>;
}

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

export function createDatabase(options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    application_name: 'iam-service',
    allowExitOnIdle: true,
  });
  pool.on('error', (error) => options.log.warn('idle database connection dropped', {}, error));

  const fail = async (operation: string, error: unknown): Promise<never> => {
    if (violatesConstraint(error)) throw new ConstraintViolationError(error);
    if (isDataException(error)) {
      options.log.warn('database refused a value', { operation, sqlstate: error.code });
      throw new InvalidValueError(error);
    }
    options.metrics.databaseError(operation);
    options.log.error('database operation failed', { operation }, error);
    throw new DependencyUnavailableError('database', error);
  };

  const run = async <R extends Row>(
    client: pg.Pool | pg.PoolClient,
    operation: string,
    text: string,
    values: readonly unknown[] = [],
  ): Promise<R[]> => {
    try {
      const config = options.namedStatements ? { name: operation, text, values: [...values] } : { text, values: [...values] };
      const result = await client.query<R>(config);
      return result.rows;
    } catch (error) {
      return fail(operation, error);
    }
  };

  return {
    query: (operation, text, values) => run(pool, operation, text, values),
    async transaction(operation, work) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
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
      try {
        await run(client, `${operation}.begin`, 'BEGIN');
        const result = await work({ query: (op, text, values) => run(client, op, text, values) });
        await run(client, `${operation}.commit`, 'COMMIT');
        return result;
      } catch (error) {
        if (!broken) await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
        throw error;
      } finally {
        client.off('error', dropped);
        // A client whose rollback failed is in an unknown state: destroy it, never reuse it.
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    end: () => pool.end(),
  };
}
