import { describe, expect, it } from '@jest/globals';
import { UnauthorizedError } from '../../../lib/errors.js';
import { apiKeyOrIamCaller } from '../../../lib/http/caller-auth.js';
import { buildHttpEvent } from '../../../local/http-front.js';

const KEY = 'k'.repeat(43);
const event = (headers: Record<string, string>, iam?: { accountId: string; userArn: string }) =>
  buildHttpEvent({ method: 'POST', url: new URL('http://localhost/system/enrich-token'), headers, iam });
const fixed = (keys: string[]) => async () => keys;

describe('apiKeyOrIamCaller', () => {
  it('accepts a configured X-API-Key', async () => {
    await expect(apiKeyOrIamCaller(fixed(['x'.repeat(32), KEY]))(event({ 'X-API-Key': KEY }))).resolves.toBeUndefined();
  });

  it('accepts the key as an HTTP Basic password (Oathkeeper’s hydrator can only send Basic)', async () => {
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    const withBasic = apiKeyOrIamCaller(fixed([KEY]), { basic: true });
    await expect(withBasic(event(basic('oathkeeper', KEY)))).resolves.toBeUndefined();
    await expect(withBasic(event(basic('oathkeeper', 'wrong')))).rejects.toThrow(UnauthorizedError);
    await expect(withBasic(event({ authorization: `Bearer ${KEY}` }))).rejects.toThrow(UnauthorizedError);
    await expect(apiKeyOrIamCaller(fixed([KEY]))(event(basic('oathkeeper', KEY)))).rejects.toThrow(UnauthorizedError);
  });

  it('accepts a Function URL AWS_IAM identity without a key', async () => {
    const iam = { accountId: '123456789012', userArn: 'arn:aws:iam::123456789012:role/gateway' };
    await expect(apiKeyOrIamCaller(fixed([]))(event({}, iam))).resolves.toBeUndefined();
  });

  it('refuses a caller with neither', async () => {
    await expect(apiKeyOrIamCaller(fixed([KEY]))(event({}))).rejects.toThrow(UnauthorizedError);
  });

  it('refuses a wrong key, a prefix of the key and an empty key', async () => {
    const check = apiKeyOrIamCaller(fixed([KEY]));
    for (const presented of ['nope', KEY.slice(0, -1), KEY + 'k', '']) {
      await expect(check(event({ 'x-api-key': presented }))).rejects.toThrow(UnauthorizedError);
    }
  });

  it('is closed when no key is configured', async () => {
    await expect(apiKeyOrIamCaller(fixed([]))(event({ 'x-api-key': '' }))).rejects.toThrow(UnauthorizedError);
    await expect(apiKeyOrIamCaller(fixed([]))(event({ 'x-api-key': 'anything' }))).rejects.toThrow(UnauthorizedError);
  });

  it('reads the keys again, once, before refusing an unknown key: a key added by rotation works at once', async () => {
    const NEW = 'n'.repeat(43);
    let keys = [KEY];
    let cached = keys; // what a caching store hands out until asked for a fresh read
    const reads: boolean[] = [];
    const check = apiKeyOrIamCaller(async (options) => {
      reads.push(options?.fresh ?? false);
      if (options?.fresh) cached = keys;
      return cached;
    });
    await check(event({ 'x-api-key': KEY }));
    keys = [KEY, NEW]; // rotated in the store; our cached copy does not know yet
    await expect(check(event({ 'x-api-key': NEW }))).resolves.toBeUndefined();
    await expect(check(event({ 'x-api-key': 'm'.repeat(43) }))).rejects.toThrow(UnauthorizedError);
    expect(reads).toEqual([false, false, true, false, true]);
  });
});
