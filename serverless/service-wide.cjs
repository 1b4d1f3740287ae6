'use strict';
const { execFileSync } = require('node:child_process');
/**
 * What applies across the service's functions, done once on the compiled template rather than
 * repeated 29 times in serverless.yml. Configured under `custom.serviceWide`:
 *
 * - `vpc.subnetIds` / `vpc.securityGroupIds` (comma-separated params): both set puts EVERY function
 *   in the VPC (all of them reach Postgres) and gives their roles the network-interface
 *   permissions Lambda needs; both empty leaves the template without VpcConfig (local and dev
 *   packaging); one without the other fails the packaging. osls cannot do this alone: there is no
 *   `split` variable, and a `provider.vpc` of `['']` would be compiled as a VpcConfig.
 * - `logGroupKmsKeyArn`: set, every log group (Lambda and HTTP API access logs) is encrypted with
 *   it; osls has no setting for it.
 * - `reservedConcurrency.value` for `reservedConcurrency.functions`: above 0 caps them; 0 leaves
 *   them uncapped (osls would compile `reservedConcurrency: 0` as "never run").
 * - `routeFunctions`: the admin API's functions, one per operation of the route table
 *   (`routeTable`, lib/admin/routes.ts, read in a child Node process with tsx): named by the
 *   route's `lambda`, on its HTTP API route, with its bundle's handler and settings and the
 *   operation in ADMIN_OPERATION; and per bundle an Errors and a Throttles alarm (below) per group
 *   of at most 10 of its functions (plus `alarmWith`). A bundle with `reservedConcurrency: true`
 *   joins `reservedConcurrency.functions`.
 * - Alarms whose `Metrics` is `{ SumOfFunctions: { MetricName, Functions, Period } }`: expanded to
 *   a metric-math alarm on the sum of that AWS/Lambda metric over the functions. Every function
 *   must be in exactly one such alarm per metric named in `alarmCoverage`, or packaging fails:
 *   a new function cannot ship without its Errors and Throttles alarms.
 *
 * Runs after osls has merged serverless.yml's `resources` and before it saves the template.
 */

/** CloudWatch's hard limit of metrics in one metric-math alarm (docs: "Alarm limits"). */
const MAX_METRICS_PER_ALARM = 10;

/** The EC2 actions of AWSLambdaVPCAccessExecutionRole, without its account-wide logs:* grants. */
const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

const list = (value) =>
  String(value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

class ServiceWide {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    this.hooks = {
      // Every command but `plugin`, after the variables are resolved: packaging (before
      // serverless-esbuild bundles and osls compiles), and also `deploy --package`, `deploy
      // function`, `logs`, `invoke` and `info`, which name functions too.
      initialize: () => this.addRouteFunctions(),
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.apply(),
    };
  }

  /** The route table's operations: `{ operation, method, path, summary, lambda, bundle }`. */
  readRouteTable(file) {
    const script =
      `const { ADMIN_ROUTES } = await import(${JSON.stringify(`./${file}`)});` +
      'process.stdout.write(JSON.stringify(Object.entries(ADMIN_ROUTES).map(([operation, r]) =>' +
      ' ({ operation, method: r.method, path: r.path, summary: r.summary, lambda: r.lambda, bundle: r.bundle }))));';
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: this.serverless.serviceDir,
        encoding: 'utf8',
        // No metrics-environment probe in the child (lib/observability/emf-environment.ts).
        env: { ...process.env, AWS_EMF_ENVIRONMENT: 'Local' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return JSON.parse(out);
    } catch (error) {
      throw this.error(`cannot read the route table ${file}: ${String(error.stderr || error.message).slice(0, 2000)}`);
    }
  }

  addRouteFunctions() {
    if (this.routesAdded) return;
    this.routesAdded = true;
    const config = this.serverless.service.custom?.serviceWide?.routeFunctions;
    if (!config) return;
    const { bundles = {} } = config;
    const functions = (this.serverless.service.functions ??= {});
    const byBundle = new Map(Object.keys(bundles).map((name) => [name, []]));
    for (const route of this.readRouteTable(config.routeTable)) {
      const bundle = bundles[route.bundle];
      if (!bundle) throw this.error(`${route.operation}: no bundle "${route.bundle}" in custom.serviceWide.routeFunctions.bundles`);
      if (functions[route.lambda]) throw this.error(`${route.operation}: function "${route.lambda}" is already declared in serverless.yml`);
      const settings = bundle.function ?? {};
      functions[route.lambda] = {
        ...settings,
        handler: bundle.handler,
        description: `${route.method} ${route.path} — ${route.summary}`,
        environment: { ...settings.environment, ADMIN_OPERATION: route.operation },
        events: [{ httpApi: { method: route.method, path: route.path } }],
      };
      byBundle.get(route.bundle).push(route.lambda);
    }
    this.serverless.service.setFunctionNames(this.options);
    const capped = this.serverless.service.custom.serviceWide.reservedConcurrency ?? {};
    for (const [name, bundle] of Object.entries(bundles)) {
      if (bundle.reservedConcurrency) capped.functions = [...(capped.functions ?? []), ...byBundle.get(name)];
    }
    // Read by `apply`, a later lifecycle step of the same run.
    this.routeGroups = ServiceWide.routeAlarmGroups(byBundle, bundles);
    this.serverless.service.custom.serviceWide.reservedConcurrency = capped;
  }

  /**
   * The alarm groups of the route functions: per bundle, its functions (table order) and its
   * `alarmWith`, split evenly into groups of at most 10, named `alarmGroup` or `alarmGroup-<n>`.
   * Static and pure: test/unit/runbook.test.ts names the same alarms.
   */
  static routeAlarmGroups(functionsByBundle, bundles) {
    return Object.entries(bundles).flatMap(([name, bundle]) => {
      const members = [...(functionsByBundle.get(name) ?? []), ...(bundle.alarmWith ?? [])];
      const count = Math.ceil(members.length / MAX_METRICS_PER_ALARM);
      const size = Math.ceil(members.length / count);
      return Array.from({ length: count }, (_, index) => ({
        name: count === 1 ? bundle.alarmGroup : `${bundle.alarmGroup}-${index + 1}`,
        functions: members.slice(index * size, (index + 1) * size),
      }));
    });
  }

  /** An Errors and a Throttles alarm (SumOfFunctions, expanded below) per group of route functions. */
  addRouteAlarms(config, coverage, template) {
    const { service } = this.serverless.service;
    const stage = this.serverless.service.provider.stage;
    const pascal = (name) => name.replace(/(^|-)(\w)/g, (_, _dash, letter) => letter.toUpperCase());
    for (const group of this.routeGroups ?? []) {
      for (const metric of coverage) {
        const id = `${pascal(group.name)}Lambda${metric}Alarm`;
        if (template.Resources[id]) throw this.error(`alarm ${id} is already declared in serverless.yml`);
        template.Resources[id] = {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmName: `${service}-${stage}-${group.name}-lambda-${metric.toLowerCase()}`,
            AlarmDescription: `Lambda ${metric} of ${group.functions.join(', ')} in ${config.alarmPeriod / 60} minutes. RUNBOOK.md, "Lambda errors or throttles".`,
            EvaluationPeriods: 1,
            Threshold: 0,
            ComparisonOperator: 'GreaterThanThreshold',
            TreatMissingData: 'notBreaching',
            AlarmActions: [{ Ref: config.alarmTopic }],
            OKActions: [{ Ref: config.alarmTopic }],
            Metrics: { SumOfFunctions: { MetricName: metric, Period: config.alarmPeriod, Functions: group.functions } },
          },
        };
      }
    }
  }

  apply() {
    const config = this.serverless.service.custom?.serviceWide ?? {};
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const naming = this.serverless.getProvider('aws').naming;
    const functions = this.serverless.service.getAllFunctions();
    const lambdaId = (name) => {
      const id = naming.getLambdaLogicalId(name);
      if (!template.Resources[id]) throw this.error(`no function "${name}" (${id}) in the template`);
      return id;
    };

    if (config.routeFunctions) this.addRouteAlarms(config.routeFunctions, config.alarmCoverage ?? [], template);
    this.applyVpc(config.vpc ?? {}, template, functions.map(lambdaId));
    this.applyLogEncryption(config.logGroupKmsKeyArn, template);
    this.applyReservedConcurrency(config.reservedConcurrency ?? {}, template, lambdaId);
    this.expandAlarms(config.alarmCoverage ?? [], template, functions, lambdaId);
  }

  applyVpc({ subnetIds, securityGroupIds }, template, lambdaIds) {
    const subnets = list(subnetIds);
    const groups = list(securityGroupIds);
    if (!subnets.length && !groups.length) return;
    if (!subnets.length || !groups.length) {
      throw this.error('vpcSubnetIds and vpcSecurityGroupIds are set together or not at all');
    }
    const roles = new Set();
    for (const id of lambdaIds) {
      const properties = template.Resources[id].Properties;
      properties.VpcConfig = { SubnetIds: subnets, SecurityGroupIds: groups };
      const role = properties.Role?.['Fn::GetAtt']?.[0];
      if (!role || !template.Resources[role]) throw this.error(`function ${id} has no role of this stack`);
      roles.add(role);
    }
    for (const role of roles) {
      const policies = (template.Resources[role].Properties.Policies ??= []);
      policies.push({
        PolicyName: 'vpc-network-interfaces',
        PolicyDocument: {
          Version: '2012-10-17',
          // Lambda creates and deletes the functions' network interfaces with the execution role.
          // ec2:DescribeNetworkInterfaces allows no resource-level scoping (Lambda docs), and the
          // interfaces' ids are not known before they exist.
          Statement: [{ Effect: 'Allow', Action: ENI_ACTIONS, Resource: '*' }],
        },
      });
    }
  }

  applyLogEncryption(keyArn, template) {
    if (!keyArn) return;
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type === 'AWS::Logs::LogGroup') resource.Properties.KmsKeyId = keyArn;
    }
  }

  applyReservedConcurrency({ value, functions = [] }, template, lambdaId) {
    const cap = Number(value ?? 0);
    if (!Number.isInteger(cap) || cap < 0) throw this.error(`reserved concurrency must be a whole number ≥ 0, not "${value}"`);
    for (const name of functions) {
      const properties = template.Resources[lambdaId(name)].Properties;
      if (cap > 0) properties.ReservedConcurrentExecutions = cap;
      else delete properties.ReservedConcurrentExecutions;
    }
  }

  expandAlarms(coverage, template, functions, lambdaId) {
    const covered = new Map(coverage.map((metric) => [metric, []]));
    for (const [alarmId, resource] of Object.entries(template.Resources)) {
      const spec = resource.Type === 'AWS::CloudWatch::Alarm' && resource.Properties.Metrics?.SumOfFunctions;
      if (!spec) continue;
      const { MetricName, Functions, Period } = spec;
      if (!Functions?.length || Functions.length > MAX_METRICS_PER_ALARM) {
        throw this.error(`${alarmId}: 1 to ${MAX_METRICS_PER_ALARM} functions per metric-math alarm, not ${Functions?.length ?? 0}`);
      }
      covered.get(MetricName)?.push(...Functions);
      resource.Properties.Metrics = [
        ...Functions.map((name, index) => ({
          Id: `f${index}`,
          Label: name,
          ReturnData: false,
          MetricStat: {
            Metric: { Namespace: 'AWS/Lambda', MetricName, Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaId(name) } }] },
            Period,
            Stat: 'Sum',
          },
        })),
        { Id: 'total', Label: `${MetricName} of ${Functions.join(', ')}`, Expression: `SUM([${Functions.map((_, index) => `f${index}`).join(',')}])`, ReturnData: true },
      ];
    }
    for (const [metric, names] of covered) {
      const missing = functions.filter((name) => !names.includes(name));
      const twice = names.filter((name, index) => names.indexOf(name) !== index);
      if (missing.length || twice.length) {
        throw this.error(`${metric} alarms must cover every function once: missing [${missing}], twice [${twice}]`);
      }
    }
  }

  error(message) {
    return new this.serverless.classes.Error(`serverless/service-wide.cjs: ${message}`);
  }
}

module.exports = ServiceWide;
