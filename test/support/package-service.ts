/**
 * Runs the real `serverless package` (osls) the way an offline machine would: no AWS credentials,
 * no instance metadata, no telemetry. Returns the CloudFormation template it wrote.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
}
export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}

/** What a deployable stage sets to put the functions in a VPC and encrypt their logs. */
export const VPC_PARAMS = {
  vpcSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2',
  vpcSecurityGroupIds: 'sg-0bbbbbbbbbbbbbbb1',
  logsKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/0e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b',
} as const;

/** The environment of a machine with no AWS credentials and nothing to phone home to. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && key !== 'NODE_OPTIONS'),
  );
  return {
    ...env,
    CI: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_INTERACTIVE_SETUP_DISABLE: '1',
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmpdir(), 'no-aws-credentials'),
    AWS_CONFIG_FILE: path.join(tmpdir(), 'no-aws-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** `serverless package --stage <stage> --package <dir> --param=k=v…`; the template it wrote. */
export async function packageService(
  packageDir: string,
  { stage, params = {}, env = {} }: { stage: string; params?: Record<string, string | number>; env?: NodeJS.ProcessEnv },
): Promise<Template> {
  await run(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules/.bin/serverless'),
      'package',
      '--stage',
      stage,
      '--package',
      packageDir,
      ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
    ],
    { cwd: repoRoot, env: { ...offlineEnv(), ...env }, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(await readFile(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

/** The resources of one CloudFormation type, with their logical ids. */
export const resourcesOf = (template: Template, type: string): Array<[string, Resource]> =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
