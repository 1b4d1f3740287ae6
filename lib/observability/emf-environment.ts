/**
 * aws-embedded-metrics resolves its environment when it is imported: left to itself outside
 * Lambda it probes the ECS and EC2 instance-metadata addresses (traffic off the machine) and keeps
 * the process alive about a second. serverless.yml fixes it to `Lambda` and jest's setup to
 * `Local`; this covers every other process that loads a function (npm start, npm run invoke,
 * the bench, the cold-start script). Imported by metrics.ts before the library, so it runs first.
 *
 * The one write to `process.env` outside lib/config.ts: the library reads its settings from
 * there, at import, before any of our code could pass them in.
 */
process.env.AWS_EMF_ENVIRONMENT ??= process.env.AWS_LAMBDA_FUNCTION_NAME ? 'Lambda' : 'Local';

export {};
