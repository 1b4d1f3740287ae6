import { describe, expect, it } from '@jest/globals';
import { scanJson } from '../../lib/http/json-body.js';

const nested = (levels: number, inner = '1') => '['.repeat(levels) + inner + ']'.repeat(levels);

describe('scanJson on bodies the bracket count lets through and bodies it does not', () => {
  it.each([
    ['a flat object', '{"subject":"u-1"}', 32, { tooDeep: false, nul: false }],
    ['exactly the limit', nested(32), 32, { tooDeep: false, nul: false }],
    ['one level over the limit', nested(33), 32, { tooDeep: true, nul: false }],
    ['many brackets side by side, none deep', `[${Array.from({ length: 40 }, () => '[]').join(',')}]`, 32, { tooDeep: false, nul: false }],
    ['brackets only inside a string', `{"a":"${'['.repeat(40)}"}`, 32, { tooDeep: false, nul: false }],
    ['an escaped NUL', '{"a":"x\\u0000y"}', 32, { tooDeep: false, nul: true }],
    ['an escaped backslash before u0000 (no NUL)', '{"a":"x\\\\u0000y"}', 32, { tooDeep: false, nul: false }],
    ['an escaped NUL among many brackets', `[${'[]'.repeat(40)},"\\u0000"]`, 32, { tooDeep: false, nul: true }],
  ])('%s', (_name, text, maxDepth, expected) => {
    expect(scanJson(text, maxDepth)).toEqual(expected);
  });
});
