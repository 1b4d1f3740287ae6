import { describe, expect, it } from '@jest/globals';
import { deploymentTimestamps, previousDeployment } from '../../../scripts/deployments.js';

// The shape `serverless deploy list` (osls 4) prints, one block per deployment, oldest first.
const listing = `
2026-11-20 09:12:01 UTC
Timestamp: 1795165921000
Files:
  - compiled-cloudformation-template.json
  - enrichToken.zip
2026-11-21 16:40:33 UTC
Timestamp: 1795279233000
Files:
  - compiled-cloudformation-template.json
2026-11-22 08:02:10 UTC
Timestamp: 1795334530000
Files:
  - compiled-cloudformation-template.json
`;

describe('previousDeployment', () => {
  it('reads every deployment timestamp in order', () => {
    expect(deploymentTimestamps(listing)).toEqual([1795165921000, 1795279233000, 1795334530000]);
  });

  it('picks the deployment before the newest', () => {
    expect(previousDeployment(listing)).toBe(1795279233000);
  });

  it('has nothing to roll back to with one deployment or none', () => {
    expect(previousDeployment('2026-11-22 08:02:10 UTC\nTimestamp: 1795334530000\nFiles:\n')).toBeUndefined();
    expect(previousDeployment("No deployments found, if that's unexpected ensure that stage and region are correct")).toBeUndefined();
  });
});
