#!/usr/bin/env node
// The package's `iam-policy` bin: runs bin/iam-policy.ts through tsx (a devDependency), as `npm run policy` does.
import { register } from 'tsx/esm/api';

register();
await import('./iam-policy.ts');
