import { describe, expect, it } from '@jest/globals';
import { UnauthorizedError } from '../../../lib/errors.js';
import { apiKeyOrIamCaller } from '../../../lib/http/caller-auth.js';
import { buildHttpEvent } from '../../../local/http-front.js';

const KEY = 'k'.repeat(43);
const event = (headers: Record<string, string>, iam?: { accountId: string; userArn: string }) =>
  buildHttpEvent({ method: 'POST', url: new URL('http://localhost/system/enrich-token'), headers, iam });

describe('apiKeyOrIamCaller', () => {
  it('accepts a configured X-API-Key', () => {
    expect(() => apiKeyOrIamCaller(['x'.repeat(32), KEY])(event({ 'X-API-Key': KEY }))).not.toThrow();
  });

  it('accepts a Function URL AWS_IAM identity without a key', () => {
    const iam = { accountId: '123456789012', userArn: 'arn:aws:iam::123456789012:role/gateway' };
    expect(() => apiKeyOrIamCaller([])(event({}, iam))).not.toThrow();
  });

  it('refuses a caller with neither', () => {
    expect(() => apiKeyOrIamCaller([KEY])(event({}))).toThrow(UnauthorizedError);
  });

  it('refuses a wrong key, a prefix of the key and an empty key', () => {
    const check = apiKeyOrIamCaller([KEY]);
    for (const presented of ['nope', KEY.slice(0, -1), KEY + 'k', '']) {
      expect(() => check(event({ 'x-api-key': presented }))).toThrow(UnauthorizedError);
    }
  });

  it('is closed when no key is configured', () => {
    expect(() => apiKeyOrIamCaller([])(event({ 'x-api-key': '' }))).toThrow(UnauthorizedError);
    expect(() => apiKeyOrIamCaller([])(event({ 'x-api-key': 'anything' }))).toThrow(UnauthorizedError);
  });
});
