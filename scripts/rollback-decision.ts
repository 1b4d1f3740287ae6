/**
 * Whether `npm run rollback` may go to a deployment, from facts read elsewhere (pure).
 *
 * Migrations are expand-then-contract: code runs against any schema at or after its own, except
 * past a *contract* migration, which drops what older code used. So a target deployment is safe
 * when the last contract migration the database has applied is within the target's migration
 * head (the last migration file it was packaged with).
 */
import { compareNames, type MigrationFile } from '../lib/adapters/postgres/migration-files.js';

/** What a deployment was packaged with (its stack outputs MigrationHead and MigrationContract). */
export interface DeploymentRecord {
  head: string;
  /** The last contract migration it knew of, if any. */
  contract: string | undefined;
}

export interface SchemaState {
  /** 'database' (pgmigrations) or 'current deployment' (its record: migrate runs before deploy). */
  source: 'database' | 'current deployment';
  /** The last contract migration applied, if any. */
  contract: string | undefined;
  /** What that migration's header says it drops (from this checkout), when known. */
  note?: string | undefined;
  /** Applied migrations this checkout has no file for: it cannot tell whether they contract. */
  unknown?: readonly string[];
}

export interface RollbackFacts {
  timestamp: number;
  /** undefined: the target has no record (deployed before the check existed). */
  target: DeploymentRecord | undefined;
  /** undefined: neither a database nor a record of the current deployment says what is applied. */
  schema: SchemaState | undefined;
  force: boolean;
}

export interface RollbackDecision {
  proceed: boolean;
  /** The check refused and --force overrode it. */
  forced: boolean;
  message: string;
}

/** The schema as `pgmigrations` lists it, classified by this checkout's migration headers. */
export function schemaFromApplied(applied: readonly string[], files: readonly Pick<MigrationFile, 'name' | 'contract'>[]): SchemaState {
  const known = new Map(files.map((file) => [file.name, file]));
  const contract = applied.filter((name) => known.get(name)?.contract !== undefined).sort(compareNames).at(-1);
  return { source: 'database', contract, note: contract && known.get(contract)?.contract, unknown: applied.filter((name) => !known.has(name)) };
}

/** The schema as the current deployment's record implies it (migrate runs before every deploy). */
export function schemaFromRecord(current: DeploymentRecord | undefined, files: readonly Pick<MigrationFile, 'name' | 'contract'>[]): SchemaState | undefined {
  if (current === undefined) return undefined;
  const note = files.find((file) => file.name === current.contract)?.contract;
  return { source: 'current deployment', contract: current.contract, note };
}

const when = (timestamp: number) => `${timestamp} (${new Date(timestamp).toISOString()})`;

export function decideRollback({ timestamp, target, schema, force }: RollbackFacts): RollbackDecision {
  const refusal = refusalReason(timestamp, target, schema);
  if (refusal === undefined) {
    const contract = schema?.contract ?? 'none';
    return {
      proceed: true,
      forced: false,
      message: `Rollback to ${when(timestamp)} passes the schema check: its migration head ${target!.head} is at or after the last applied contract migration (${contract}, from the ${schema!.source}).`,
    };
  }
  if (force) {
    return {
      proceed: true,
      forced: true,
      message: `!!! --force: rolling back to ${when(timestamp)} DESPITE the schema check !!!\n!!! ${refusal}\n!!! The rolled-back code may fail against this schema; watch its errors and be ready to roll forward.`,
    };
  }
  return { proceed: false, forced: false, message: `Refusing to roll back: ${refusal}\nRoll forward instead, or re-run with --force once you have checked that code does not use it.` };
}

function refusalReason(timestamp: number, target: DeploymentRecord | undefined, schema: SchemaState | undefined): string | undefined {
  if (target === undefined) {
    return `the deployment ${when(timestamp)} has no migration record (stack output MigrationHead): it predates this check, so nothing shows which schema its code needs.`;
  }
  if (schema === undefined) {
    return `nothing says which migrations are applied: the current deployment has no migration record and no database was given (--database-url, DATABASE_URL or DATABASE_SECRET_ID). The target's head is ${target.head}.`;
  }
  if (schema.unknown && schema.unknown.length > 0) {
    return `the database has applied migrations this checkout does not have (${schema.unknown.join(', ')}), so it cannot tell whether they are contract migrations; run the rollback from a checkout of the current release. The target's head is ${target.head}.`;
  }
  if (schema.contract !== undefined && compareNames(schema.contract, target.head) > 0) {
    const what = schema.note ? ` (${schema.note})` : '';
    return `the ${schema.source} has applied the contract migration ${schema.contract}${what}, and the deployment ${when(timestamp)} was built with migrations up to ${target.head} only: its code may use what that migration removed.`;
  }
  return undefined;
}

export interface RollbackArgs {
  stage: string | undefined;
  region: string | undefined;
  timestamp: number | undefined;
  databaseUrl: string | undefined;
  force: boolean;
  dryRun: boolean;
  /** What goes on to `serverless rollback` (our own flags removed). */
  passThrough: string[];
}

const VALUED: Record<string, 'stage' | 'region' | 'timestamp'> = { '--stage': 'stage', '-s': 'stage', '--region': 'region', '-r': 'region', '--timestamp': 'timestamp', '-t': 'timestamp' };

/** Reads the command line; --force, --dry-run and --database-url are ours, the rest is serverless'. */
export function parseRollbackArgs(argv: readonly string[]): RollbackArgs {
  const args: RollbackArgs = { stage: undefined, region: undefined, timestamp: undefined, databaseUrl: undefined, force: false, dryRun: false, passThrough: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (flag === '--force') args.force = true;
    else if (flag === '--dry-run') args.dryRun = true;
    else if (flag === '--database-url') args.databaseUrl = inline ?? argv[++i];
    else if (VALUED[flag] === undefined) args.passThrough.push(arg);
    else {
      const value = inline ?? argv[++i];
      args.passThrough.push(...(inline === undefined && value !== undefined ? [arg, value] : [arg]));
      if (VALUED[flag] === 'timestamp') args.timestamp = toEpochMs(value);
      else args[VALUED[flag]!] = value;
    }
  }
  return args;
}

/** serverless accepts epoch milliseconds or a date string. */
function toEpochMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(n) ? n : undefined;
}
