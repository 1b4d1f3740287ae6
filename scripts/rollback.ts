/**
 * `npm run rollback -- --stage <s> [--region <r>] [--timestamp <epoch ms>] [--dry-run] [--force]
 * [--database-url <url>]`: rolls the stage back to the given deployment or, with no timestamp,
 * to the one before the current deployment (found with `serverless deploy list`; the deployment
 * bucket keeps the last five) — unless the target's code predates a contract migration the
 * database has applied (scripts/rollback-decision.ts). The applied migrations come from
 * `pgmigrations` when a database is given (--database-url, DATABASE_URL or DATABASE_SECRET_ID,
 * as for npm run migrate), else from the current deployment's record. --dry-run prints the
 * decision and stops; --force rolls back despite a refusal. Every failure ends in one line on
 * stderr with its cause (no AWS credentials, serverless's own error, a refusal) and exit 1.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { migrationFiles } from '../lib/adapters/postgres/migration-files.js';
import { createLogger } from '../lib/observability/logger.js';
import { requireAwsCredentials } from './aws-credentials.js';
import { databaseConfigured, primaryDatabaseUrl } from './database-url.js';
import { appliedMigrations, currentStack, serviceFacts, targetRecord, templateKey } from './deployment-records.js';
import { previousDeployment } from './deployments.js';
import { decideRollback, parseRollbackArgs, schemaFromApplied, schemaFromRecord } from './rollback-decision.js';

const serverless = fileURLToPath(new URL('../node_modules/.bin/serverless', import.meta.url));
const args = parseRollbackArgs(process.argv.slice(2));
const sls = (command: string[], capture: boolean) =>
  spawnSync(process.execPath, [serverless, ...command, ...args.passThrough], { encoding: 'utf8', stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit' });
const say = (line: string) => process.stderr.write(line + '\n');

try {
  const { service, defaultRegion } = serviceFacts();
  const stage = args.stage ?? 'dev';
  const region = args.region ?? defaultRegion;
  const cloudFormation = new CloudFormationClient({ region });
  await requireAwsCredentials(cloudFormation);

  if (args.timestamp === undefined) {
    const listing = sls(['deploy', 'list'], true);
    // serverless prints its error ("Error:" and the cause) on stdout, which is captured here.
    if (listing.status !== 0) throw new Error(`serverless deploy list failed (exit ${listing.status ?? listing.signal}):\n${listing.stdout.trim() || listing.error?.message || 'no output'}`);
    const previous = previousDeployment(listing.stdout);
    if (previous === undefined) {
      say('No earlier deployment to roll back to (serverless deploy list shows fewer than two).');
      process.exit(1);
    }
    say(`Rolling back to the previous deployment: ${previous} (${new Date(previous).toISOString()})`);
    args.timestamp = previous;
    args.passThrough.push('--timestamp', String(previous));
  }

  const stack = await currentStack(cloudFormation, `${service}-${stage}`);
  const target = await targetRecord(new S3Client({ region }), stack.bucket, templateKey(service, stage, args.timestamp));
  const files = migrationFiles();
  const databaseUrl = args.databaseUrl ?? (databaseConfigured() ? await primaryDatabaseUrl() : undefined);
  const log = createLogger('warn', { service, task: 'rollback' });
  const schema = databaseUrl ? schemaFromApplied(await appliedMigrations(databaseUrl, log), files) : schemaFromRecord(stack.record, files);

  const decision = decideRollback({ timestamp: args.timestamp, target, schema, force: args.force });
  say(decision.message);
  if (!decision.proceed) process.exit(1);
  if (args.dryRun) {
    say('--dry-run: not calling serverless rollback.');
    process.exit(0);
  }
  say(`Running serverless rollback ${args.passThrough.join(' ')}`);
  process.exit(sls(['rollback'], false).status ?? 1);
} catch (error) {
  say(`Rollback check failed, nothing rolled back: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
