/**
 * Where `npm run rollback` reads its facts, each behind one small function:
 * - the current stack's outputs (CloudFormation DescribeStacks): the deployment bucket and the
 *   current deployment's migration record;
 * - a target deployment's record: the Outputs of the `compiled-cloudformation-template.json`
 *   serverless keeps in that bucket under `serverless/<service>/<stage>/<ms>-<ISO date>/`
 *   (osls lib/plugins/aws/rollback.js builds the same directory name from the timestamp);
 * - the migrations a database has applied (`pgmigrations`, read-only).
 * The SDK clients take their endpoints from the usual AWS_ENDPOINT_URL_* variables (the tests'
 * loopback stand-ins); credentials and region as the AWS CLI and serverless find them.
 */
import { readFileSync } from 'node:fs';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { oneConnection } from '../lib/adapters/postgres/migration-runner.js';
import type { Logger } from '../lib/observability/logger.js';
import type { DeploymentRecord } from './rollback-decision.js';

export const OUTPUT_HEAD = 'MigrationHead';
export const OUTPUT_CONTRACT = 'MigrationContract';
/** Set by serverless on every stack whose bucket it created (provider.deploymentBucket unset). */
export const OUTPUT_BUCKET = 'ServerlessDeploymentBucketName';
const DEPLOYMENT_PREFIX = 'serverless';
const TEMPLATE_FILE = 'compiled-cloudformation-template.json';

export interface ServiceFacts {
  service: string;
  defaultRegion: string;
}

/** The service name and default region as serverless.yml declares them. */
export function serviceFacts(yml: string = readFileSync(new URL('../serverless.yml', import.meta.url), 'utf8')): ServiceFacts {
  const service = /^service:\s*(\S+)\s*$/m.exec(yml)?.[1];
  const defaultRegion = /^\s+region:\s*\$\{opt:region,\s*'([^']+)'\}/m.exec(yml)?.[1];
  if (!service || !defaultRegion) throw new Error("serverless.yml: expected `service: <name>` and `region: ${opt:region, '<default>'}`");
  // The rollback reads the same bucket and stack serverless does only while these are defaults.
  for (const key of ['deploymentBucket', 'deploymentPrefix', 'stackName']) {
    if (new RegExp(`^  ${key}:`, 'm').test(yml)) throw new Error(`serverless.yml sets provider.${key}: scripts/deployment-records.ts does not follow it yet`);
  }
  return { service, defaultRegion };
}

/** A deployment's record from its outputs (stack outputs or a template's), or undefined. */
export function recordFromOutputs(outputs: Readonly<Record<string, string | undefined>>): DeploymentRecord | undefined {
  const head = outputs[OUTPUT_HEAD];
  if (!head) return undefined;
  const contract = outputs[OUTPUT_CONTRACT];
  return { head, contract: contract && contract !== 'none' ? contract : undefined };
}

export interface CurrentStack {
  bucket: string;
  record: DeploymentRecord | undefined;
}

export async function currentStack(cloudFormation: CloudFormationClient, stackName: string): Promise<CurrentStack> {
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue]));
  const bucket = outputs[OUTPUT_BUCKET];
  if (!bucket) throw new Error(`stack ${stackName} has no ${OUTPUT_BUCKET} output: cannot find its deployment bucket`);
  return { bucket, record: recordFromOutputs(outputs) };
}

/** The key serverless stores a deployment's template under (osls rollback.js: `${ms}-${ISO}`). */
export function templateKey(service: string, stage: string, timestamp: number): string {
  const date = new Date(timestamp);
  return `${DEPLOYMENT_PREFIX}/${service}/${stage}/${date.getTime()}-${date.toISOString()}/${TEMPLATE_FILE}`;
}

export class DeploymentNotFoundError extends Error {}

/** The target deployment's record, undefined when its template has none. */
export async function targetRecord(s3: S3Client, bucket: string, key: string): Promise<DeploymentRecord | undefined> {
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (error instanceof NoSuchKey) throw new DeploymentNotFoundError(`no deployment at s3://${bucket}/${key}: check the timestamp, stage and region (npx serverless deploy list)`);
    throw error;
  }
  const template = JSON.parse(text) as { Outputs?: Record<string, { Value?: unknown }> };
  const outputs = Object.fromEntries(Object.entries(template.Outputs ?? {}).map(([key, output]) => [key, typeof output.Value === 'string' ? output.Value : undefined]));
  return recordFromOutputs(outputs);
}

/** The names in `pgmigrations`, in the order they ran; a read-only transaction. */
export async function appliedMigrations(databaseUrl: string, log: Logger): Promise<string[]> {
  const db = oneConnection(databaseUrl, log);
  try {
    return await db.transaction('rollback_check', async (tx) => {
      await tx.query('rollback_check.read_only', 'SET TRANSACTION READ ONLY');
      const rows = await tx.query<{ name: string }>('rollback_check.applied', 'SELECT name FROM pgmigrations ORDER BY run_on, id');
      return rows.map((row) => row.name);
    });
  } finally {
    await db.end();
  }
}
