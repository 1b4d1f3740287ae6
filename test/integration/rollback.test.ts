/**
 * `npm run rollback` itself, spawned: the real script, the real AWS SDK against a loopback
 * CloudFormation/S3 stand-in, and a real database whose `pgmigrations` the check reads.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startAwsDeployments, type AwsDeploymentsStandIn } from '../support/aws-deployments.js';
import { createTestDatabase } from '../support/test-database.js';

const root = new URL('../..', import.meta.url).pathname;
const BUCKET = 'iam-service-prod-serverlessdeploymentbucket-1a2b3c';
const CONTRACT = '1763900000003_drop-resolve-claims-function';
const BEFORE_CONTRACT = 1795165921000; // built with migrations up to …0002_subject-claims
const AFTER_CONTRACT = 1795279233000; // built with migrations up to …0001_outbox-published-index
const LEGACY = 1795334530000; // deployed before the record existed: no MigrationHead output

const templateKey = (timestamp: number) =>
  `serverless/iam-service/prod/${timestamp}-${new Date(timestamp).toISOString()}/compiled-cloudformation-template.json`;
const template = (outputs: Record<string, string>) =>
  JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', Resources: {}, Outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])) });

let aws: AwsDeploymentsStandIn;
let databaseUrl: string;

beforeAll(async () => {
  aws = await startAwsDeployments();
  databaseUrl = await createTestDatabase(); // every migration applied, the contract one included
  aws.stack('iam-service-prod', { ServerlessDeploymentBucketName: BUCKET, MigrationHead: '1764000000001_outbox-published-index', MigrationContract: CONTRACT });
  aws.object(BUCKET, templateKey(BEFORE_CONTRACT), template({ MigrationHead: '1763900000002_subject-claims', MigrationContract: 'none' }));
  aws.object(BUCKET, templateKey(AFTER_CONTRACT), template({ MigrationHead: '1764000000001_outbox-published-index', MigrationContract: CONTRACT }));
  aws.object(BUCKET, templateKey(LEGACY), template({ AlarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms' }));
});
afterAll(() => aws.stop());

async function rollback(...args: string[]): Promise<{ code: number | null; stderr: string; requests: string[] }> {
  aws.requests.length = 0;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL_CLOUDFORMATION: aws.endpoint,
    AWS_ENDPOINT_URL_S3: aws.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
    AWS_SECRET_ACCESS_KEY: 'stand-in',
    AWS_EMF_ENVIRONMENT: 'Local',
    NODE_OPTIONS: '',
  };
  delete env.DATABASE_URL;
  delete env.DATABASE_SECRET_ID;
  delete env.AWS_PROFILE;
  const child = spawn('npm', ['run', '--silent', 'rollback', '--', '--stage', 'prod', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stderr, requests: [...aws.requests] };
}

describe('npm run rollback', () => {
  it('refuses a target built before a contract migration the database applied, naming both, before calling serverless', async () => {
    const { code, stderr, requests } = await rollback('--timestamp', String(BEFORE_CONTRACT), '--database-url', databaseUrl);
    expect(code).not.toBe(0);
    expect(stderr).toContain(`Refusing to roll back: the database has applied the contract migration ${CONTRACT}`);
    expect(stderr).toContain('drops iam_resolve_claims(text, text, text)');
    expect(stderr).toContain('built with migrations up to 1763900000002_subject-claims');
    expect(stderr).toContain('--force');
    expect(stderr).not.toContain('Running serverless rollback');
    // Our two reads only: serverless (whose first call is DescribeStackResource) never ran.
    expect(requests).toEqual(['DescribeStacks iam-service-prod', `GetObject ${BUCKET}/${templateKey(BEFORE_CONTRACT)}`]);
  });

  it('refuses it from the current deployment record when no database is given', async () => {
    const { code, stderr } = await rollback('--timestamp', String(BEFORE_CONTRACT));
    expect(code).not.toBe(0);
    expect(stderr).toContain(`the current deployment has applied the contract migration ${CONTRACT}`);
  });

  it('refuses a target that has no migration record', async () => {
    const { code, stderr } = await rollback('--timestamp', String(LEGACY), '--database-url', databaseUrl);
    expect(code).not.toBe(0);
    expect(stderr).toContain('has no migration record (stack output MigrationHead)');
  });

  it('lets a target at or after the last contract migration through; --dry-run stops before serverless', async () => {
    const { code, stderr, requests } = await rollback('--timestamp', String(AFTER_CONTRACT), '--database-url', databaseUrl, '--dry-run');
    expect(stderr).toContain(`passes the schema check: its migration head 1764000000001_outbox-published-index is at or after the last applied contract migration (${CONTRACT}, from the database)`);
    expect(stderr).toContain('--dry-run: not calling serverless rollback.');
    expect(code).toBe(0);
    expect(requests).toHaveLength(2);
  });

  it('overrides a refusal with --force, loudly', async () => {
    const { code, stderr } = await rollback('--timestamp', String(BEFORE_CONTRACT), '--database-url', databaseUrl, '--force', '--dry-run');
    expect(stderr).toContain('--force: rolling back to 1795165921000 (2026-11-20T09:12:01.000Z) DESPITE the schema check');
    expect(stderr).toContain(CONTRACT);
    expect(code).toBe(0);
  });

  it('hands an allowed rollback to serverless rollback, without its own flags', async () => {
    const { code, stderr, requests } = await rollback('--timestamp', String(AFTER_CONTRACT), '--database-url', databaseUrl);
    expect(stderr).toContain(`Running serverless rollback --stage prod --timestamp ${AFTER_CONTRACT}\n`);
    // serverless rollback looked for its bucket (the stand-in answers only our calls, so it stops there).
    expect(requests).toContain('DescribeStackResource iam-service-prod');
    expect(code).not.toBe(0);
  }, 60_000);
});
