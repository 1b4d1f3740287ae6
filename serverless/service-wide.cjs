'use strict';
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
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.apply(),
    };
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
