/**
 * `serverless package` runs offline (no AWS credentials, no network) and produces what we deploy:
 * the CloudFormation template and one esbuild-bundled ESM zip per function. Runs the real CLI once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN_ROUTES } from '../../lib/admin/routes.js';
import { readZip, type ZipEntry } from '../../scripts/zip.js';
import { offlineEnv, packageService, run, type Resource, type Template } from '../support/package-service.js';

const stage = 'pkgtest';
/**
 * Secret-looking values in the packaging machine's environment (an operator's shell, a CI job):
 * none may end up in the template or a zip.
 */
const CANARIES = {
  ENRICH_API_KEYS: 'canary-enrich-api-key-0123456789abcdefghij',
  RAUTH_ADMIN_CLIENT_SECRET: 'canary-rauth-admin-secret-0123456789',
  RAUTH_REGISTRATION_TOKEN: 'canary-registration-token-0123456789',
  CLIENT_TOKEN_KEYS: 'canary:Y2FuYXJ5LWNhbmFyeS1jYW5hcnktY2FuYXJ5LWNhbmFyeQ==',
  PGPASSWORD: 'canary-pg-password-0123456789',
  DATABASE_URL: 'postgres://iam:canary-database-password@db.internal:5432/iam',
};
const enrichHandler = 'functions/enrich-token.handler';

describe('serverless package', () => {
  let packageDir: string;
  let template: Template;

  const enrichFunction = (): [string, Resource] => {
    const found = Object.entries(template.Resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties['Handler'] === enrichHandler,
    );
    if (!found) throw new Error(`no AWS::Lambda::Function with handler ${enrichHandler}`);
    return found;
  };

  const enrichZip = async (): Promise<ZipEntry[]> => {
    const [, fn] = enrichFunction();
    const key = (fn.Properties['Code'] as { S3Key: string }).S3Key;
    return readZip(await readFile(path.join(packageDir, path.basename(key))));
  };

  beforeAll(async () => {
    packageDir = await mkdtemp(path.join(tmpdir(), 'iam-service-package-'));
    template = await packageService(packageDir, {
      stage,
      params: { enrichProvisionedConcurrency: 2, databaseUrl: 'postgres://iam-proxy.internal:5432/iam?sslmode=require' },
      env: CANARIES,
    });
  }, 180_000);

  afterAll(async () => {
    if (packageDir) await rm(packageDir, { recursive: true, force: true });
  });

  it('declares the enrich-token Lambda on nodejs22.x with its handler', () => {
    const [, fn] = enrichFunction();
    expect(fn.Properties).toMatchObject({
      Handler: enrichHandler,
      Runtime: 'nodejs22.x',
      FunctionName: `iam-service-${stage}-enrichToken`,
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 6,
    });
  });

  it('runs enrich-token with its metrics namespace, source maps and the database settings', () => {
    const [, fn] = enrichFunction();
    const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      METRICS_NAMESPACE: `Citadel/IamService/${stage}`,
      LOG_LEVEL: 'info',
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(variables).toMatchObject({
      DATABASE_URL: 'postgres://iam-proxy.internal:5432/iam?sslmode=require',
      DATABASE_SECRET_ID: `iam-service/${stage}/database`,
      ENRICH_API_KEYS_SECRET_ID: `iam-service/${stage}/enrich-api-keys`,
    });
  });

  it('declares the enrich-token Function URL with AWS_IAM, on the warm (provisioned) alias', () => {
    const [logicalId] = enrichFunction();
    const urls = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Url');
    expect(urls).toEqual([
      expect.objectContaining({
        DependsOn: 'EnrichTokenProvConcLambdaAlias',
        Properties: expect.objectContaining({
          AuthType: 'AWS_IAM',
          TargetFunctionArn: { 'Fn::Join': [':', [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, 'provisioned']] },
        }),
      }),
    ]);
  });

  it('grants no public invoke permission on the Function URL', () => {
    const publicPermissions = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Permission' && r.Properties['Principal'] === '*',
    );
    expect(publicPermissions).toEqual([]);
  });

  it('keeps every log group (the functions’ and the HTTP API access log) for 365 days', () => {
    const logGroups = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    // One per function (the route table's and the seven others) and the HTTP API's access log.
    expect(logGroups.length).toBe(Object.keys(ADMIN_ROUTES).length + 7 + 1);
    for (const group of logGroups) expect(group.Properties['RetentionInDays']).toBe(365);
  });

  it('packages enrich-token as a zip holding the bundled .mjs handler and its source map', async () => {
    const names = (await enrichZip()).map((entry) => entry.name).sort();
    expect(names).toEqual(['functions/enrich-token.mjs', 'functions/enrich-token.mjs.map']);
  });

  it('bundles an ES module that defines require for its CommonJS dependencies', async () => {
    const bundle = (await enrichZip()).find((entry) => entry.name === 'functions/enrich-token.mjs');
    const source = bundle!.content().toString('utf8');
    // Slices only: a failed match against the whole minified bundle would print all of it.
    expect(source.slice(0, 200)).toMatch(/^import\s*\{\s*createRequire\b.*\(import\.meta\.url\)/);
    expect(source.slice(-200)).toMatch(/\/\/# sourceMappingURL=enrich-token\.mjs\.map\s*$/);
    // Static imports/re-exports left in the bundle: Node built-ins only; everything else is inlined,
    // except the Secrets Manager client, which the Lambda runtime provides and the first secret
    // read imports (a dynamic import, so module init never loads it).
    const staticImport = /\b(?:import|export)\s*(?:[\w$*{}\s,]*?\s*from\s*)?["']([^"']+)["']/g;
    const specifiers = [...source.matchAll(staticImport)].map((match) => match[1]!);
    expect([...new Set(specifiers.filter((specifier) => !isBuiltin(specifier)))]).toEqual([]);
    const dynamicImport = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
    const loadedLater = [...source.matchAll(dynamicImport)].map((match) => match[1]!).filter((specifier) => !isBuiltin(specifier));
    expect([...new Set(loadedLater)]).toEqual(['@aws-sdk/client-secrets-manager']);
  });

  it('keeps the admin API’s and the relay’s libraries (jose, nats.ws) out of the enrich-token bundle', async () => {
    const bundle = (await enrichZip()).find((entry) => entry.name === 'functions/enrich-token.mjs')!.content().toString('utf8');
    expect(bundle.length).toBeLessThan(200 * 1024);
    for (const marker of ['JWSSignatureVerificationFailed', 'NatsConnectionImpl', 'jetstream']) expect(bundle.includes(marker)).toBe(false);
  });

  it('produces a bundle that Node imports and whose handler is a function', async () => {
    const extracted = path.join(packageDir, 'enrich-token-unzipped');
    for (const entry of await enrichZip()) {
      const target = path.join(extracted, entry.name);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, entry.content());
    }
    // The nodejs22.x runtime provides AWS SDK v3 on its module path; ours stands in for it.
    await mkdir(path.join(extracted, 'node_modules', '@aws-sdk'), { recursive: true });
    await symlink(path.resolve('node_modules/@aws-sdk/client-secrets-manager'), path.join(extracted, 'node_modules', '@aws-sdk', 'client-secrets-manager'));
    // Importing builds the runtime (config, pg pool) but opens no connection.
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        // On failure print the message and stack only, not Node's echo of the minified line.
        "import('./functions/enrich-token.mjs').then((m) => console.log(typeof m.handler), (e) => {" +
          " console.error(String(e?.stack).split('\\n').slice(0, 4).join('\\n')); process.exit(1); });",
      ],
      {
        cwd: extracted,
        timeout: 30_000,
        env: {
          ...offlineEnv(),
          DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
        },
      },
    );
    expect(stdout.trim()).toBe('function');
  });

  it('declares one function and one HTTP API route per admin operation, as the route table says', () => {
    const lambdas = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    const handlers = new Map(lambdas.map(([id, r]) => [id, r.Properties['Handler'] as string]));
    const routes = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties['RouteKey'] as string)
      .sort();
    // forward-auth answers any method, on its path and below it (Envoy appends the client's path).
    const system = ['GET /system/idp-health', 'ANY /system/forward-auth', 'ANY /system/forward-auth/{proxy+}', 'POST /system/enrich-token'];
    expect(routes).toEqual([...Object.values(ADMIN_ROUTES).map((r) => `${r.method} ${r.path}`), ...system].sort());
    const integrations = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Integration');
    const targets = integrations.map((r) => JSON.stringify(r.Properties['IntegrationUri']));
    // Each operation its own function, named by the table, built by its bundle's entry for the
    // operation its ADMIN_OPERATION names; its route integrates that function and no other.
    for (const [operation, route] of Object.entries(ADMIN_ROUTES)) {
      const id = `${route.lambda[0]!.toUpperCase()}${route.lambda.slice(1)}LambdaFunction`;
      const fn = template.Resources[id];
      expect({ operation, handler: handlers.get(id), variable: fn && variablesOf(fn)['ADMIN_OPERATION'] }).toEqual({
        operation,
        handler: route.bundle === 'clients' ? 'functions/client-api.handler' : 'functions/admin-api.handler',
        variable: operation,
      });
      const routeResource = Object.values(template.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties['RouteKey'] === `${route.method} ${route.path}`)!;
      const integration = JSON.stringify(routeResource.Properties['Target']);
      expect(targets.filter((target) => target.includes(`"${id}"`)).length).toBe(1);
      expect(integration).toContain(`${route.lambda[0]!.toUpperCase()}${route.lambda.slice(1)}`);
    }
    expect(new Set(Object.values(ADMIN_ROUTES).map((r) => r.lambda)).size).toBe(Object.keys(ADMIN_ROUTES).length);
  });

  it('packages a zip per admin function', async () => {
    const zips = await readdir(packageDir);
    const admin = Object.values(ADMIN_ROUTES).map((r) => `${r.lambda}.zip`);
    expect(zips).toEqual(expect.arrayContaining(admin));
  });

  const functions = () => Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const variablesOf = (fn: Resource) => (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;

  it('names secrets in the environment and never holds a credential there', () => {
    for (const fn of functions()) {
      const names = Object.keys(variablesOf(fn));
      expect(names.filter((name) => /^(ENRICH_API_KEYS|RAUTH_ADMIN_CLIENT_SECRET|RAUTH_REGISTRATION_TOKEN|CLIENT_TOKEN_KEYS)$/.test(name))).toEqual([]);
      expect(new URL(String(variablesOf(fn)['DATABASE_URL'])).password).toBe('');
    }
  });

  it('hands each secret’s name to the functions that use it only', () => {
    const writers = ['client-api', 'client-reconcile'];
    for (const fn of functions()) {
      const handler = String(fn.Properties['Handler']);
      const file = handler.replace(/^functions\/|\.\w+$/g, '');
      const names = Object.keys(variablesOf(fn)).filter((name) => name.endsWith('_SECRET_ID'));
      const expected = ['DATABASE_SECRET_ID', 'NATS_SECRET_ID'];
      if (file === 'enrich-token' || file === 'forward-auth') expected.push('ENRICH_API_KEYS_SECRET_ID');
      if (writers.includes(file)) expected.push('RAUTH_SECRET_ID', 'CLIENT_TOKEN_KEYS_SECRET_ID');
      if (file === 'idp-health') expected.push('RAUTH_SECRET_ID');
      expect({ handler, names: names.sort() }).toEqual({ handler, names: expected.sort() });
    }
  });

  it('gives every function a role that may read only the secrets it names, and write only its logs', () => {
    const arnOf = (secret: string) => `arn:aws:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${secret}-??????`;
    for (const fn of functions()) {
      const roleId = (fn.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const role = template.Resources[roleId]!;
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(role.Properties['ManagedPolicyArns']).toBeUndefined();
      const statements = (role.Properties['Policies'] as Array<{ PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } }>).flatMap(
        (policy) => policy.PolicyDocument.Statement,
      );
      const actions = statements.flatMap((statement) => [statement.Action].flat()).sort();
      expect(actions).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue']);
      const secretArns = statements
        .filter((statement) => statement.Action === 'secretsmanager:GetSecretValue')
        .flatMap((statement) => [statement.Resource].flat().map((resource) => (resource as { 'Fn::Sub': string })['Fn::Sub']));
      const named = Object.entries(variablesOf(fn))
        .filter(([name]) => name.endsWith('_SECRET_ID') && !(name === 'NATS_SECRET_ID' && roleId === 'EnrichTokenRole') && !(name === 'NATS_SECRET_ID' && roleId === 'IdpHealthRole'))
        .map(([, value]) => arnOf(String(value)));
      expect({ role: roleId, secrets: secretArns.sort() }).toEqual({ role: roleId, secrets: named.sort() });
    }
  });

  it('keeps enrich-token instances warm when asked (provisioned concurrency)', () => {
    const configs = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Alias')
      .map((r) => r.Properties['ProvisionedConcurrencyConfig']);
    expect(configs).toEqual([{ ProvisionedConcurrentExecutions: 2 }]);
  });

  it('puts no secret value anywhere in the template or the zips', async () => {
    const texts = [JSON.stringify(template)];
    for (const file of (await readdir(packageDir)).filter((name) => name.endsWith('.zip'))) {
      for (const entry of readZip(await readFile(path.join(packageDir, file)))) texts.push(entry.content().toString('utf8'));
    }
    expect(texts.length).toBeGreaterThan(20);
    const canaries = [...Object.values(CANARIES), 'canary-database-password'];
    for (const text of texts) {
      expect(canaries.filter((canary) => text.includes(canary))).toEqual([]);
      // A PEM private key with a body, or an AWS access key id (the bare PEM header is library code).
      expect(/-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\\n|\s)*[A-Za-z0-9+/]{64}|AKIA[0-9A-Z]{16}/.exec(text)?.[0]).toBeUndefined();
    }
    // No connection string with a password in the template (the bundles quote pg's docs).
    expect(/postgres(?:ql)?:\/\/[^\s:@/"']+:[^\s@/"']+@/.exec(texts[0]!)?.[0]).toBeUndefined();
  });

  it('runs the outbox relay and the IdP health probe every minute', () => {
    const idOf = (handler: string) =>
      Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties['Handler'] === handler)?.[0] ?? 'missing';
    const rules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const scheduled = rules.map((r) => ({ schedule: r.Properties['ScheduleExpression'], targets: JSON.stringify(r.Properties['Targets']) }));
    for (const handler of ['functions/outbox-relay.handler', 'functions/idp-health.scheduled']) {
      expect(scheduled.filter((rule) => rule.targets.includes(`"${idOf(handler)}"`)).map((rule) => rule.schedule)).toEqual(['rate(1 minute)']);
    }
  });

  it('runs the client reconcile every five minutes', () => {
    const id = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties['Handler'] === 'functions/client-reconcile.handler')?.[0];
    const rules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties['Targets']).includes(`"${id}"`));
    expect(rules.map((r) => r.Properties['ScheduleExpression'])).toEqual(['rate(5 minutes)']);
  });

  it('declares an alarm for each of the runbook’s alerts, all notifying one topic', () => {
    const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const watched = alarms.map((a) => `${a.Properties['Namespace']} ${a.Properties['MetricName']}`).sort();
    expect(watched).toEqual(
      expect.arrayContaining([
        `Citadel/IamService/${stage} http_request_duration_seconds`,
        `Citadel/IamService/${stage} idp_adapter_errors_total`,
        `Citadel/IamService/${stage} database_errors_total`,
        `Citadel/IamService/${stage} outbox_oldest_unpublished_age_seconds`,
      ]),
    );
    // Lambda's Errors and Throttles of every function: serverless-template.test.ts.
    const latency = alarms.find((a) => a.Properties['MetricName'] === 'http_request_duration_seconds')!;
    expect(latency.Properties).toMatchObject({ ExtendedStatistic: 'p99', Threshold: 0.3, Dimensions: [{ Name: 'handler', Value: '/system/enrich-token' }] });
    const database = alarms.find((a) => a.Properties['MetricName'] === 'database_errors_total')!;
    expect(database.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    for (const alarm of alarms) expect(alarm.Properties['AlarmActions']).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  it('puts the four runbook metrics on one dashboard', () => {
    const [dashboard] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    const source = (dashboard!.Properties['DashboardBody'] as { 'Fn::Sub': string })['Fn::Sub'];
    const body = JSON.parse(source.replaceAll('${AWS::Region}', 'eu-west-1')) as { widgets: unknown[] };
    expect(body.widgets).toHaveLength(4);
    for (const metric of ['http_requests_total', 'http_request_duration_seconds', 'idp_adapter_errors_total', 'database_errors_total']) {
      expect(source).toContain(metric);
    }
  });
});
