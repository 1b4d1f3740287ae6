/**
 * RUNBOOK.md's Logs Insights queries and field paths, checked against log lines the code really
 * writes. test/unit/runbook.test.ts checks the runbook's names against the source text; this
 * file breaks things on purpose — a cold start with a bad configuration, a database that refuses
 * connections, a secret store that is down, an R-Auth that is down, hangs, refuses our token and
 * fails a delete, NATS down during a relay run — captures every line the functions print (JSON
 * logs and EMF metric lines, as CloudWatch would ingest them), and then requires that:
 *
 * - every `insights '…'` query selects at least one real line, and each field it reads
 *   (`fields`, `stats … by`, aggregates, filters) exists in at least one selected line;
 * - every row of the runbook's "Log lines" table whose message was produced here names only
 *   fields that message's lines carry;
 * - every `error.…` path the runbook quotes exists in a real line;
 * - the IdP health reasons a real probe gives are the ones the runbook lists for that check.
 */
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../support/test-database.js';

const runbook = readFileSync(fileURLToPath(new URL('../../RUNBOOK.md', import.meta.url)), 'utf8');

type Line = Record<string, unknown>;

/** The value at a Logs Insights field path (`error.cause.cause.code`, `failed.0`), or undefined. */
function at(line: Line, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), line);
}
const has = (line: Line, path: string) => at(line, path) !== undefined;

// --- The runbook's queries, read as an on-call engineer pastes them ---

interface Query {
  text: string;
  messages: string[];
  patterns: RegExp[];
  present: string[];
  fields: string[];
}

const KEYWORDS = new Set(['filter', 'fields', 'stats', 'sort', 'limit', 'by', 'as', 'desc', 'asc', 'and', 'or', 'not', 'in', 'like', 'count', 'sum', 'pct', 'max', 'min', 'avg', 'bin', 'ispresent']);

function parseQuery(text: string): Query {
  const messages = [
    ...[...text.matchAll(/\bmsg\s*=\s*"([^"]+)"/g)].map((m) => m[1]!),
    ...[...text.matchAll(/\bmsg\s+in\s*\[([^\]]*)\]/g)].flatMap((m) => [...m[1]!.matchAll(/"([^"]+)"/g)].map((s) => s[1]!)),
  ];
  const patterns = [...text.matchAll(/\bmsg\s+like\s*\/((?:\\\/|[^/])+)\//g)].map((m) => new RegExp(m[1]!));
  const aliases = new Set([...text.matchAll(/\bas\s+(\w+)/g)].map((m) => m[1]!));
  const present = [...text.matchAll(/\bispresent\(([\w.]+)\)/g)].map((m) => m[1]!);
  const bare = text
    .replace(/"[^"]*"/g, ' ')
    .replace(/\/(?:\\\/|[^/\n])+\//g, ' ') // regex literals
    .replace(/\bas\s+\w+/g, ' ') // aliases
    .replace(/\bbin\([^)]*\)/g, ' ')
    .replace(/\b\d+\w*\b/g, ' ');
  const fields = [...new Set([...bare.matchAll(/(?<![@\w.])([A-Za-z_][\w]*(?:\.[\w]+)*)/g)].map((m) => m[1]!))].filter((word) => !KEYWORDS.has(word) && !aliases.has(word) && word !== 'msg');
  return { text, messages, patterns, present, fields };
}

// (`insights '<Logs Insights query>'` is the helper's own usage line, not a query.)
const queries = [...runbook.matchAll(/\binsights '([^'<][^']*)'/g)].map((m) => parseQuery(m[1]!));

/** What a query's filter selects: by message when it names one, else by the fields it requires. */
function select(query: Query, lines: readonly Line[]): Line[] {
  if (query.messages.length || query.patterns.length) {
    return lines.filter((line) => typeof line.msg === 'string' && (query.messages.includes(line.msg) || query.patterns.some((p) => p.test(line.msg as string))));
  }
  if (query.present.length) return lines.filter((line) => query.present.every((path) => has(line, path)));
  const equal = [...query.text.matchAll(/\b([\w.]+)\s*=\s*"/g)].map((m) => m[1]!).filter((path) => path !== 'msg');
  return lines.filter((line) => equal.every((path) => has(line, path)));
}

// --- The "Log lines" table ---

const logTable = (() => {
  const start = runbook.indexOf('\n## Log lines\n');
  const end = runbook.indexOf('\n## ', start + 1);
  return runbook
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter((row) => row.startsWith('| `'))
    .map((row) => {
      const cells = row.split(' | ');
      return { message: /^\| `([^`]+)`/.exec(row)![1]!, fields: [...(cells[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!) };
    });
})();
const asPattern = (message: string) => new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]+>/g, '.+')}$`);

describe('RUNBOOK.md against real log lines', () => {
  const lines: Line[] = [];

  beforeAll(async () => {
    // A real Node process, as Lambda runs the code: in jest's module sandbox, errors made by
    // Node itself (fetch's TypeError, its socket cause) are not `instanceof Error`, so the
    // logger would not show the causes the runbook reads.
    const url = await createTestDatabase();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../support/runbook-scenarios.ts', import.meta.url))], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`the scenarios failed (exit ${code}):\n${stderr}`);
    for (const text of stdout.split('\n').filter(Boolean)) {
      try {
        lines.push(JSON.parse(text) as Line);
      } catch {
        // not a log line
      }
    }
  }, 90_000);

  it('produces the failures it stands for', () => {
    const messages = new Set(lines.map((line) => line.msg));
    for (const message of [
      'invalid configuration; refusing to start',
      'database operation failed',
      'request failed',
      'secret read from Secrets Manager failed',
      'IdP health check failed',
      'reconcile could not repair a client',
      'client reconcile finished',
      'IdP refused the initial access token; reading it again',
      'outbox relay could not publish; will retry',
      'outbox relay run',
      'outbox relay swept old rows',
    ]) {
      expect({ message, produced: messages.has(message) }).toEqual({ message, produced: true });
    }
    expect(lines.filter((line) => line.msg === 'invalid configuration; refusing to start')).toHaveLength(1);
  });

  it('finds at least one real line for every Logs Insights query, with every field it reads', () => {
    expect(queries.length).toBeGreaterThan(10);
    const problems = queries
      .filter((query) => !/@type\s*=\s*"REPORT"/.test(query.text)) // Lambda's own REPORT lines
      .flatMap((query) => {
        const selected = select(query, lines);
        if (selected.length === 0) return [{ query: query.text, problem: 'selects no line the code wrote here' }];
        const missing = query.fields.filter((path) => !selected.some((line) => has(line, path)));
        return missing.length ? [{ query: query.text, problem: `no selected line has ${missing.join(', ')}` }] : [];
      });
    expect(problems).toEqual([]);
  });

  it('lists in its log line table only fields the real lines carry', () => {
    const checked = logTable.filter((row) => lines.some((line) => typeof line.msg === 'string' && asPattern(row.message).test(line.msg)));
    expect(checked.length).toBeGreaterThanOrEqual(10);
    const wrong = checked.flatMap((row) => {
      const real = lines.filter((line) => typeof line.msg === 'string' && asPattern(row.message).test(line.msg));
      const missing = row.fields.filter((field) => !real.some((line) => has(line, field)));
      return missing.length ? [{ message: row.message, missing }] : [];
    });
    expect(wrong).toEqual([]);
  });

  it('quotes only error paths a real line has', () => {
    const paths = [...new Set([...runbook.matchAll(/`(error(?:\.\w+)+)`/g)].map((m) => m[1]!))];
    expect(paths).toEqual(expect.arrayContaining(['error.message', 'error.code', 'error.cause.cause.code']));
    expect(paths.filter((path) => !lines.some((line) => has(line, path)))).toEqual([]);
  });

  it('shows the IdP failures where the runbook says: the socket code two causes down, a timeout in the message', () => {
    const idp = lines.filter((line) => typeof line.msg === 'string' && /^failed to .* client in upstream IdP$/.test(line.msg));
    expect(idp).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'list', error: expect.objectContaining({ message: 'fetch failed', cause: expect.objectContaining({ cause: expect.objectContaining({ code: 'ECONNREFUSED' }) }) }) }),
        expect.objectContaining({ operation: 'list', error: expect.objectContaining({ message: 'timed out' }) }),
        expect.objectContaining({ operation: 'list', status: 401, error: expect.objectContaining({ message: 'IdP refused the initial access token' }) }),
        expect.objectContaining({ operation: 'delete', error: expect.objectContaining({ message: expect.stringMatching(/^IdP answered 500/) }) }),
      ]),
    );
    const database = lines.find((line) => line.msg === 'database operation failed');
    expect(at(database!, 'error.code')).toBe('ECONNREFUSED');
  });

  it('lists for each IdP health check the reasons a real probe gives', () => {
    const table = runbook
      .split('\n')
      .filter((row) => /^\s*\| `(discovery|jwks|token|registration)`/.test(row))
      .map((row) => row.trim().split(' | '))
      .map(([checks, reasons]) => ({ checks: [...checks!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!), reasons: [...reasons!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) }));
    const listed = (check: string, reason: string) =>
      table.some((row) => row.checks.includes(check) && row.reasons.some((r) => r === reason || asPattern(r).test(reason)));
    const failed = lines.filter((line) => line.msg === 'IdP health check failed').flatMap((line) => line.failed as string[]);
    expect(failed).toHaveLength(4);
    const unlisted = failed.map((entry) => entry.split(': ') as [string, string]).filter(([check, reason]) => !listed(check, reason));
    expect(unlisted).toEqual([]);
  });
});
