/** The real `serverless package` records the migration head in the template, where rollback reads it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { migrationFiles } from '../../lib/adapters/postgres/migration-files.js';
import { recordFromOutputs } from '../../scripts/deployment-records.js';
import { packageService, VPC_PARAMS } from '../support/package-service.js';

describe('serverless package', () => {
  it('writes the last migration and the last contract migration as stack outputs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iam-package-'));
    try {
      const template = await packageService(dir, { stage: 'dev', params: VPC_PARAMS });
      const outputs = Object.fromEntries(Object.entries(template.Outputs ?? {}).map(([key, output]) => [key, (output as { Value?: string }).Value]));
      const files = migrationFiles();
      expect(recordFromOutputs(outputs)).toEqual({ head: files.at(-1)!.name, contract: files.filter((f) => f.contract).at(-1)!.name });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
