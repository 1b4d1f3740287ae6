/** The sweep measures the explain and who-has reads only where the route table has them. */
import { describe, expect, it } from '@jest/globals';
import { availableReads } from '../../../bench/admin-reads.js';

const before = [
  { method: 'GET', path: '/tenants/{tenant}/users' },
  { method: 'PUT', path: '/tenants/{tenant}/users/{subject}' },
  { method: 'GET', path: '/tenants/{tenant}/audit' },
  { method: 'GET', path: '/audit' },
];

describe('availableReads', () => {
  it('measures the lists a route table without explain and who-has serves', () => {
    expect(availableReads(before).map((r) => r.read.name)).toEqual(['users, page 1', 'users, page 1000', 'audit, page 1', 'audit, page 1000', 'tenant audit, page 1']);
  });

  it('adds explain and who-has once their GET routes exist, with the parameter names the routes use', () => {
    const after = [...before, { method: 'GET', path: '/tenants/{tenant}/users/{subject}/access' }, { method: 'GET', path: '/tenants/{tenant}/permissions/{permission}/subjects' }];
    const reads = availableReads(after);
    expect(reads.map((r) => r.read.name).slice(5)).toEqual(["explain (a user's access)", 'who-has (a permission), page 1']);
    const whoHas = reads[6]!;
    expect(whoHas.names).toEqual(['tenant', 'permission']);
    expect(whoHas.read.params(whoHas.names)).toEqual({ tenant: 'bench-big', permission: 'invoices:read' });
  });

  it('ignores a route on the same path with another method', () => {
    expect(availableReads([{ method: 'POST', path: '/audit' }])).toEqual([]);
  });
});
