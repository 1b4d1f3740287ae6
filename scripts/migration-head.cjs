/**
 * serverless.yml's `${file(./scripts/migration-head.cjs):head}` and `…:contract`: the migration
 * head this deployment is packaged with, recorded as the stack outputs MigrationHead and
 * MigrationContract so `npm run rollback` can tell whether the deployment's code predates a
 * contract migration the database has applied. CommonJS because osls loads `${file(…)}` scripts
 * with require(). Same reading as lib/adapters/postgres/migration-files.ts (a test compares them):
 * files sorted by their timestamp prefix, a contract migration's first line `-- contract: …`.
 */
'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', 'migrations');

function migrations(dir = DIR) {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || (a < b ? -1 : a > b ? 1 : 0))
    .map((file) => ({
      name: file.slice(0, -'.sql'.length),
      contract: /^--\s*contract:\s*\S/.test(readFileSync(path.join(dir, file), 'utf8').split('\n', 1)[0]),
    }));
}

/** The last migration's name. */
function head(dir = DIR) {
  const all = migrations(dir);
  if (all.length === 0) throw new Error(`no migrations in ${dir}`);
  return all[all.length - 1].name;
}

/** The last contract migration's name, or 'none' (a CloudFormation output cannot be empty). */
function contract(dir = DIR) {
  const contracts = migrations(dir).filter((m) => m.contract);
  return contracts.length > 0 ? contracts[contracts.length - 1].name : 'none';
}

// osls calls a function it finds at the address with ({ options, … }): ignore that argument.
module.exports = { head: () => head(), contract: () => contract(), migrations, headOf: head, contractOf: contract };
