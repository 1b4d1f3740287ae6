import { describe, expect, it } from '@jest/globals';
import { whyNotStarted } from '../../../local/embedded-postgres.js';
import { LocalStartError, oneLine, PortInUseError } from '../../../local/start-errors.js';

describe('npm start failure lines', () => {
  it('never says "undefined" for a rejection without a reason', () => {
    expect(oneLine(undefined)).toBe('failed without giving a reason');
  });

  it('spells out an AggregateError without a message (Node tries ::1 and 127.0.0.1)', () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}:5433`), { code: 'ECONNREFUSED' });
    expect(oneLine(new AggregateError([refused('::1'), refused('127.0.0.1')]))).toBe('connect ECONNREFUSED ::1:5433; connect ECONNREFUSED 127.0.0.1:5433');
  });

  it('adds the cause of a wrapper that says nothing, and keeps it on one line', () => {
    expect(oneLine(new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND base\n  at x') }))).toBe('fetch failed: getaddrinfo ENOTFOUND base at x');
  });

  it('takes its own failures as they are', () => {
    expect(oneLine(new LocalStartError('it is what it says', { cause: new Error('detail') }))).toBe('it is what it says');
  });
});

describe('why the embedded PostgreSQL did not start', () => {
  const options = { dir: '/x/.local/pg', port: 54329 };

  it('names EMBEDDED_PG_PORT when the port is taken', () => {
    const log = '2025-11-30 LOG:  could not bind IPv4 address "127.0.0.1": Address already in use\n2025-11-30 FATAL:  could not create any TCP/IP sockets\n';
    const error = whyNotStarted(log, options, undefined);
    expect(error).toBeInstanceOf(PortInUseError);
    expect(error.message).toBe('port 54329 (embedded PostgreSQL) is already in use: stop what listens there, or set EMBEDDED_PG_PORT to a free port');
  });

  it('gives the server’s last FATAL line otherwise', () => {
    const log = '2025-11-30 FATAL:  lock file "postmaster.pid" already exists\n2025-11-30 HINT:  Is another postmaster (PID 4242) running in data directory "/x/.local/pg"?\n';
    expect(whyNotStarted(log, options, undefined).message).toBe('embedded PostgreSQL (data in /x/.local/pg) did not start: lock file "postmaster.pid" already exists');
  });
});
