/**
 * The template as a stage deploys it (VPC and KMS params set): every function in the VPC, both
 * enrich-token ingresses, the HTTP API's limits and access logs, an alarm over every function —
 * and AWS's own Control Tower rules (cfn-guard) passing but for the listed exceptions. Also the
 * template without those params (local/dev): no VPC anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { packageService, repoRoot, resourcesOf, run, VPC_PARAMS, type Template } from '../support/package-service.js';

const stage = 'tpltest';
const guardHome = path.join(repoRoot, 'node_modules/@cdklabs/cdk-validator-cfnguard');
const guardBinary = path.join(
  guardHome,
  'bin',
  process.platform === 'darwin' ? 'macos' : 'ubuntu',
  process.arch === 'arm64' ? 'aarch64' : 'x86_64',
  'cfn-guard',
);
/** Control Tower's rule folders for what this stack holds (API Gateway v2 rules are in apigateway/). */
const RULE_FOLDERS = ['lambda', 'apigateway', 'cloudwatch', 'identityandaccessmanagement'].map((folder) =>
  path.join(guardHome, 'rules/control-tower/cfn-guard', folder),
);

interface GuardException {
  control: string;
  rule: string;
  reason: string;
  resources: string[];
}
const exceptions = parse(await readFile(path.join(repoRoot, 'cfn-guard-exceptions.yml'), 'utf8')) as GuardException[];

/** Each failing rule and the resources it failed on: `rule resource` strings. */
async function guardFailures(templateFile: string): Promise<string[]> {
  const args = ['validate', '-d', templateFile, ...RULE_FOLDERS.flatMap((folder) => ['-r', folder]), '-o', 'json', '-z', '-S', 'none'];
  // Exit code 19 means "some rule failed"; the report is on stdout either way.
  const stdout = await run(guardBinary, args, { maxBuffer: 64 * 1024 * 1024 }).then(
    (result) => result.stdout,
    (error: { code?: number; stdout?: string }) => {
      if (error.code !== 19) throw error;
      return error.stdout ?? '';
    },
  );
  const [report] = JSON.parse(stdout) as Array<{ not_compliant: Array<{ Rule: { name: string } }> }>;
  return report!.not_compliant.flatMap((failure) => {
    const resources = new Set([...JSON.stringify(failure).matchAll(/"path":"\/Resources\/([^/"]+)/g)].map((m) => m[1]!));
    return [...resources].map((resource) => `${failure.Rule.name} ${resource}`);
  });
}

const excepted = exceptions.flatMap((entry) => entry.resources.map((resource) => `${entry.rule} ${resource}`));

describe('the template with the VPC and KMS params', () => {
  let dir: string;
  let template: Template;
  let templateFile: string;
  const functions = () => resourcesOf(template, 'AWS::Lambda::Function');
  const alarms = () => Object.fromEntries(resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => [String(a.Properties['AlarmName']).replace(`iam-service-${stage}-`, ''), a.Properties]));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'iam-service-template-'));
    template = await packageService(dir, { stage, params: { ...VPC_PARAMS, enrichProvisionedConcurrency: 2, clientReservedConcurrency: 4 } });
    templateFile = path.join(dir, 'cloudformation-template-update-stack.json');
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('puts every function in the VPC', () => {
    expect(functions().length).toBeGreaterThanOrEqual(29);
    for (const [id, fn] of functions()) {
      expect({ id, vpc: fn.Properties['VpcConfig'] }).toEqual({
        id,
        vpc: { SubnetIds: VPC_PARAMS.vpcSubnetIds.split(','), SecurityGroupIds: [VPC_PARAMS.vpcSecurityGroupIds] },
      });
    }
  });

  it('lets every function role manage the network interfaces Lambda needs in a VPC, and nothing else of EC2', () => {
    const roles = new Set(functions().map(([, fn]) => (fn.Properties['Role'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]));
    expect(roles.size).toBe(4);
    for (const role of roles) {
      const policies = template.Resources[role]!.Properties['Policies'] as Array<{ PolicyName: string; PolicyDocument: { Statement: Array<{ Action: string[] }> } }>;
      const ec2 = policies.flatMap((p) => p.PolicyDocument.Statement).flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('ec2:'));
      expect({ role, ec2: ec2.sort() }).toEqual({
        role,
        ec2: ['ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:UnassignPrivateIpAddresses'],
      });
    }
  });

  it('lets the IdP health role read the database secret (its last result is in Postgres)', () => {
    const statements = JSON.stringify(template.Resources['IdpHealthRole']!.Properties['Policies']);
    expect(statements).toContain(`secret:iam-service/${stage}/database-??????`);
    expect(statements).not.toContain(`secret:iam-service/${stage}/nats-??????`);
  });

  it('serves enrich-token on its AWS_IAM Function URL and on POST /system/enrich-token, both on the provisioned alias', () => {
    const alias = { 'Fn::Join': [':', [{ 'Fn::GetAtt': ['EnrichTokenLambdaFunction', 'Arn'] }, 'provisioned']] };
    const urls = resourcesOf(template, 'AWS::Lambda::Url');
    expect(urls).toHaveLength(1);
    expect(urls[0]![1].Properties).toMatchObject({ AuthType: 'AWS_IAM', TargetFunctionArn: alias });
    const route = resourcesOf(template, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties['RouteKey'] === 'POST /system/enrich-token');
    expect(route).toBeDefined();
    const integrationId = /"Ref":"(HttpApiIntegration\w+)"/.exec(JSON.stringify(route![1].Properties['Target']))?.[1];
    expect(template.Resources[integrationId!]!.Properties['IntegrationUri']).toEqual(alias);
    expect(template.Resources['EnrichTokenLambdaPermissionHttpApi']!.Properties['FunctionName']).toEqual(alias);
  });

  it('throttles the HTTP API stage and writes JSON access logs with the request id and no headers, query or token', () => {
    const stages = resourcesOf(template, 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const stageResource = stages[0]![1];
    expect(stageResource.Properties['DefaultRouteSettings']).toEqual({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 });
    const logs = stageResource.Properties['AccessLogSettings'] as { Format: string; DestinationArn: unknown };
    expect(logs.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
    const format = JSON.parse(logs.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status', integrationError: '$context.integrationErrorMessage' });
    expect(Object.values(format).filter((v) => /header|querystring|authorizer|path\b|\$context\.path/i.test(v))).toEqual([]);
  });

  it('keeps every log group for 365 days, encrypted with the given key', () => {
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
    expect(groups.map(([id]) => id)).toContain('HttpApiLogGroup');
    for (const [id, group] of groups) {
      expect({ id, ...group.Properties }).toMatchObject({ id, RetentionInDays: 365, KmsKeyId: VPC_PARAMS.logsKmsKeyArn });
    }
  });

  it('caps the concurrency of the functions that call R-Auth, and only theirs', () => {
    const capped = functions().filter(([, fn]) => fn.Properties['ReservedConcurrentExecutions'] !== undefined);
    expect(capped.map(([id, fn]) => `${id}=${fn.Properties['ReservedConcurrentExecutions']}`).sort()).toEqual(
      ['ClientCreate', 'ClientDelete', 'ClientReconcile', 'ClientRotateSecret', 'ClientUpdate'].map((f) => `${f}LambdaFunction=4`),
    );
  });

  it('alarms on the Errors and the Throttles of every function, at most 10 metrics per alarm', () => {
    for (const metric of ['Errors', 'Throttles']) {
      const watched = Object.values(alarms()).flatMap((alarm) =>
        ((alarm['Metrics'] as Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Value: { Ref: string } }> } } }>) ?? [])
          .map((query) => query.MetricStat?.Metric)
          .filter((m) => m?.Namespace === 'AWS/Lambda' && m.MetricName === metric)
          .map((m) => m!.Dimensions[0]!.Value.Ref),
      );
      expect(watched.sort()).toEqual(functions().map(([id]) => id).sort());
    }
    for (const alarm of Object.values(alarms())) {
      const queries = (alarm['Metrics'] as Array<{ MetricStat?: unknown }> | undefined) ?? [];
      expect(queries.filter((q) => q.MetricStat).length).toBeLessThanOrEqual(10);
      expect(alarm['AlarmActions']).toEqual([{ Ref: 'AlarmTopic' }]);
    }
  });

  it('alarms when the oldest unpublished outbox event is too old, or the relay reports nothing', () => {
    expect(alarms()['outbox-backlog']).toMatchObject({
      Namespace: `Citadel/IamService/${stage}`,
      MetricName: 'outbox_oldest_unpublished_age_seconds',
      Dimensions: [{ Name: 'service', Value: 'iam-service' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('alarms when enrich-token traffic falls below its anomaly-detection band', () => {
    const drop = alarms()['enrich-token-traffic-drop']!;
    expect(drop).toMatchObject({ ComparisonOperator: 'LessThanLowerThreshold', ThresholdMetricId: 'band', TreatMissingData: 'breaching' });
    expect(drop['Metrics']).toContainEqual(expect.objectContaining({ Id: 'band', Expression: 'ANOMALY_DETECTION_BAND(requests, 3)' }));
  });

  it('passes AWS Control Tower’s Lambda, API Gateway, CloudWatch and IAM rules but for the listed exceptions', async () => {
    const failures = await guardFailures(templateFile);
    expect(failures.filter((failure) => !excepted.includes(failure))).toEqual([]);
    // An exception that no longer fails is removed, not kept "just in case".
    expect(excepted.filter((exception) => !failures.includes(exception))).toEqual([]);
  });

  it('fails the same check on a template with a function outside the VPC', async () => {
    const bad = structuredClone(template);
    delete bad.Resources['OutboxRelayLambdaFunction']!.Properties['VpcConfig'];
    const badFile = path.join(dir, 'function-outside-the-vpc.json');
    await writeFile(badFile, JSON.stringify(bad));
    const failures = await guardFailures(badFile);
    expect(failures.filter((failure) => !excepted.includes(failure))).toEqual(['lambda_inside_vpc_check OutboxRelayLambdaFunction']);
  });

  it('lists each exception with its control, the rule’s own control id and a reason, in README.md too', async () => {
    const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\|\s*(CT\.[A-Z0-9.]+)\s*\|\s*`(\w+)`\s*\|\s*(\d+)\s*\|\s*(.+?)\s*\|\s*$/gm)].map((m) => ({ control: m[1], rule: m[2], count: Number(m[3]), reason: m[4] }));
    expect(rows).toEqual(exceptions.map((e) => ({ control: e.control, rule: e.rule, count: e.resources.length, reason: e.reason })));
    const ruleFiles = (await Promise.all(RULE_FOLDERS.map(async (folder) => (await readdir(folder)).map((file) => path.join(folder, file))))).flat();
    for (const entry of exceptions) {
      const sources = await Promise.all(ruleFiles.map((file) => readFile(file, 'utf8')));
      const source = sources.find((text) => new RegExp(`^rule ${entry.rule}\\b`, 'm').test(text));
      expect({ rule: entry.rule, control: source?.includes(`[${entry.control}]`) }).toEqual({ rule: entry.rule, control: true });
    }
  });
});

describe('the template without the VPC params (local and dev packaging)', () => {
  let dir: string;
  let template: Template;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'iam-service-template-plain-'));
    template = await packageService(dir, { stage });
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has no VpcConfig, no log-group key, no concurrency cap and no EC2 permission anywhere', () => {
    const text = JSON.stringify(template);
    for (const word of ['VpcConfig', 'KmsKeyId', 'ReservedConcurrentExecutions', 'ec2:']) expect({ word, found: text.includes(word) }).toEqual({ word, found: false });
    expect(resourcesOf(template, 'AWS::Lambda::Function').length).toBeGreaterThanOrEqual(29);
  });

  it('routes POST /system/enrich-token to the function itself when nothing is provisioned', () => {
    const integration = resourcesOf(template, 'AWS::ApiGatewayV2::Integration').find(([id]) => id === 'HttpApiIntegrationEnrichToken');
    expect(integration?.[1].Properties['IntegrationUri']).toEqual({ 'Fn::GetAtt': ['EnrichTokenLambdaFunction', 'Arn'] });
  });
});
