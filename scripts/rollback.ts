/**
 * `npm run rollback -- --stage <s> [--region <r>] [--timestamp <epoch ms>]`: rolls the stage back
 * to the given deployment or, with no timestamp, to the one before the current deployment
 * (found with `serverless deploy list`; the deployment bucket keeps the last five).
 * Migrations are expand-then-contract, so the previous code runs against the current schema.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { previousDeployment } from './deployments.js';

const serverless = fileURLToPath(new URL('../node_modules/.bin/serverless', import.meta.url));
const args = process.argv.slice(2);
const sls = (command: string[], capture: boolean) =>
  spawnSync(process.execPath, [serverless, ...command, ...args], { encoding: 'utf8', stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit' });

if (!args.includes('--timestamp') && !args.includes('-t')) {
  const listing = sls(['deploy', 'list'], true);
  if (listing.status !== 0) process.exit(listing.status ?? 1);
  const previous = previousDeployment(listing.stdout);
  if (previous === undefined) {
    process.stderr.write('No earlier deployment to roll back to (serverless deploy list shows fewer than two).\n');
    process.exit(1);
  }
  process.stderr.write(`Rolling back to the previous deployment: ${previous} (${new Date(previous).toISOString()})\n`);
  args.push('--timestamp', String(previous));
}
process.exit(sls(['rollback'], false).status ?? 1);
