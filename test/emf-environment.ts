// aws-embedded-metrics resolves its environment when imported; outside Lambda, left to itself, it
// probes the ECS and EC2 metadata addresses. ESM imports are hoisted, so this must run before any
// test file's imports: a jest setup file. (lib/observability/emf-environment.ts has the same
// default for every other process; this states the tests' choice where a reader looks for it.)
process.env.AWS_EMF_ENVIRONMENT = 'Local';
