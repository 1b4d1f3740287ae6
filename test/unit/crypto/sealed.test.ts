import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { open, seal, sealKey, SealedBoxError, type SealKey } from '../../../lib/crypto/sealed.js';

const key = (id: string): SealKey => ({ id, bytes: new Uint8Array(randomBytes(32)) });

describe('sealed box', () => {
  const current = key('k2');
  const previous = key('k1');

  it('opens what it sealed, naming the key id in a versioned format', () => {
    const sealed = seal('registration-access-token ✓', current);
    expect(sealed).toMatch(/^v1\.k2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('registration');
    expect(open(sealed, [previous, current])).toBe('registration-access-token ✓');
  });

  it('opens a box sealed with an older key that is still listed', () => {
    expect(open(seal('old', previous), [current, previous])).toBe('old');
  });

  it('seals the same plaintext differently each time', () => {
    expect(seal('same', current)).not.toBe(seal('same', current));
  });

  it('refuses a box whose ciphertext, tag or iv was changed', () => {
    const sealed = seal('secret', current);
    const [v, id, iv, body] = sealed.split('.') as [string, string, string, string];
    const flip = (text: string, at: number) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[at] = bytes[at]! ^ 1;
      return bytes.toString('base64url');
    };
    expect(() => open([v, id, iv, flip(body, 0)].join('.'), [current])).toThrow(SealedBoxError);
    expect(() => open([v, id, iv, flip(body, Buffer.from(body, 'base64url').length - 1)].join('.'), [current])).toThrow(SealedBoxError);
    expect(() => open([v, id, flip(iv, 3), body].join('.'), [current])).toThrow(SealedBoxError);
  });

  it('refuses a box relabelled with another key id or version', () => {
    const sealed = seal('secret', current);
    const sameBytesOtherId: SealKey = { id: 'k9', bytes: current.bytes };
    expect(() => open(sealed.replace('.k2.', '.k9.'), [sameBytesOtherId])).toThrow(/authentication/);
    expect(() => open(sealed.replace(/^v1/, 'v2'), [current])).toThrow(/version/);
  });

  it('refuses a box sealed with a key it was not given, or the wrong bytes under the same id', () => {
    const sealed = seal('secret', current);
    expect(() => open(sealed, [previous])).toThrow(/unknown key/);
    expect(() => open(sealed, [key('k2')])).toThrow(/authentication/);
  });

  it('refuses malformed boxes and bad keys', () => {
    expect(() => open('v1.k2.onlythree', [current])).toThrow(SealedBoxError);
    expect(() => open('v1.k2.!!.??', [current])).toThrow(SealedBoxError);
    expect(() => seal('x', { id: 'has.dot', bytes: current.bytes })).toThrow(/key id/);
    expect(() => seal('x', { id: 'short', bytes: new Uint8Array(16) })).toThrow(/32 bytes/);
    expect(() => sealKey('cfg', randomBytes(31).toString('base64'))).toThrow(/32 bytes/);
    const configured = sealKey('cfg', randomBytes(32).toString('base64'));
    expect(open(seal('x', configured), [configured])).toBe('x');
  });
});
