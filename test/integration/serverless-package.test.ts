/**
 * `serverless package` runs offline (no AWS credentials, no network) and produces what we deploy:
 * the CloudFormation template and one esbuild-bundled ESM zip per function. Runs the real CLI once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ADMIN_ROUTES } from '../../lib/admin/routes.js';
import { readZip, type ZipEntry } from '../../scripts/zip.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const stage = 'pkgtest';
const enrichHandler = 'functions/enrich-token.handler';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Template {
  Resources: Record<string, Resource>;
}

/** The environment of a machine with no AWS credentials and nothing to phone home to. */
function offlineEnv(): NodeJS.ProcessEnv {
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
    await run(
      process.execPath,
      [path.join(repoRoot, 'node_modules/.bin/serverless'), 'package', '--stage', stage, '--package', packageDir],
      { cwd: repoRoot, env: offlineEnv(), timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
    );
    template = JSON.parse(
      await readFile(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
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
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'DATABASE_READ_URL', 'ENRICH_API_KEYS']),
    );
  });

  it('declares the enrich-token Function URL with AWS_IAM', () => {
    const [logicalId] = enrichFunction();
    const urls = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Url');
    expect(urls).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          AuthType: 'AWS_IAM',
          TargetFunctionArn: { 'Fn::GetAtt': [logicalId, 'Arn'] },
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

  it('keeps the log group for 30 days', () => {
    const logGroups = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThan(0);
    for (const group of logGroups) expect(group.Properties['RetentionInDays']).toBe(30);
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
    // Static imports/re-exports left in the bundle: Node built-ins and the Secrets Manager client,
    // which the Lambda runtime provides; everything else is inlined.
    const staticImport = /\b(?:import|export)\s*(?:[\w$*{}\s,]*?\s*from\s*)?["']([^"']+)["']/g;
    const specifiers = [...source.matchAll(staticImport)].map((match) => match[1]!);
    expect([...new Set(specifiers.filter((specifier) => !isBuiltin(specifier)))]).toEqual(['@aws-sdk/client-secrets-manager']);
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
    expect(routes).toEqual([...Object.values(ADMIN_ROUTES).map((r) => `${r.method} ${r.path}`), 'GET /system/idp-health'].sort());
    const integrations = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Integration');
    const targets = integrations.map((r) => JSON.stringify(r.Properties['IntegrationUri']));
    for (const route of Object.values(ADMIN_ROUTES)) {
      const [id] = [...handlers].find(([, handler]) => handler === `functions/${route.file}.handler`) ?? [];
      expect({ route: route.path, method: route.method, function: id ?? 'missing' }).toEqual(
        expect.objectContaining({ function: expect.stringMatching(/LambdaFunction$/) }),
      );
      expect(targets.some((target) => target.includes(id!))).toBe(true);
    }
  });

  it('hands the API keys to enrich-token only', () => {
    for (const [, fn] of Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect('ENRICH_API_KEYS' in variables).toBe(fn.Properties['Handler'] === enrichHandler);
    }
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

  it('hands the registration credentials and sealing keys to the client functions that call the IdP only', () => {
    const writers = ['client-create', 'client-update', 'client-delete', 'client-rotate-secret', 'client-reconcile'].map((f) => `functions/${f}.handler`);
    for (const [, fn] of Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      const writer = writers.includes(String(fn.Properties['Handler']));
      expect({ handler: fn.Properties['Handler'], token: 'RAUTH_REGISTRATION_TOKEN' in variables, keys: 'CLIENT_TOKEN_KEYS' in variables }).toEqual({
        handler: fn.Properties['Handler'],
        token: writer,
        keys: writer,
      });
      expect('RAUTH_ADMIN_API_URL' in variables).toBe(fn.Properties['Handler'] === 'functions/client-reconcile.handler');
    }
  });

  it('hands the service’s own IdP client secret to the health probe only', () => {
    for (const [, fn] of Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect('RAUTH_ADMIN_CLIENT_SECRET' in variables).toBe(String(fn.Properties['Handler']).startsWith('functions/idp-health.'));
    }
  });

  it('declares an alarm for each of the runbook’s alerts, all notifying one topic', () => {
    const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const watched = alarms.map((a) => `${a.Properties['Namespace']} ${a.Properties['MetricName']}`).sort();
    expect(watched).toEqual(
      expect.arrayContaining([
        `Citadel/IamService/${stage} http_request_duration_seconds`,
        `Citadel/IamService/${stage} idp_adapter_errors_total`,
        `Citadel/IamService/${stage} database_errors_total`,
        'AWS/Lambda Errors',
        'AWS/Lambda Throttles',
      ]),
    );
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
