import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../lib/observability/logger.js';

describe('createLogger', () => {
  it('writes one JSON line per entry with its context fields', () => {
    const lines: string[] = [];
    createLogger('info', { service: 's' }, (line) => lines.push(line)).child({ request_id: 'r-1' }).info('hello', { n: 1 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'hello', service: 's', request_id: 'r-1', n: 1 });
  });

  it('drops entries below its level', () => {
    const lines: string[] = [];
    const log = createLogger('warn', {}, (line) => lines.push(line));
    log.debug('a');
    log.info('b');
    log.warn('c');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['c']);
  });

  it('reduces an error to name, code, message and stack, without driver detail', () => {
    const lines: string[] = [];
    const error = Object.assign(new Error('duplicate key'), { code: '23505', detail: 'Key (slug)=(secret-co) exists.' });
    createLogger('info', {}, (line) => lines.push(line)).error('failed', {}, error);
    const entry = JSON.parse(lines[0]!);
    expect(entry.error).toMatchObject({ name: 'Error', message: 'duplicate key', code: '23505' });
    expect(lines[0]).not.toContain('secret-co');
  });
});
