/**
 * The TokenSealer (lib/admin/ports.ts) over sealed boxes (./sealed.ts), with keys from a
 * credential source (Secrets Manager in AWS). Seals with the first key and opens with any, so a
 * new key can be put first without breaking old rows; a box sealed under a key added since the
 * keys were last read makes it read them once more.
 */
import type { TokenSealer } from '../admin/ports.js';
import { ConfigError } from '../errors.js';
import type { SealKeyText, Source } from '../secrets/credentials.js';
import { open, seal, sealKey } from './sealed.js';

export function tokenSealer(keys: Source<readonly SealKeyText[] | undefined>): TokenSealer {
  const loaded = async (fresh = false) => {
    const texts = await keys({ fresh });
    if (!texts?.length) throw new ConfigError([{ path: 'CLIENT_TOKEN_KEYS', message: 'names no key' }]);
    return texts.map((k) => sealKey(k.id, k.base64));
  };
  return {
    seal: async (token) => seal(token, (await loaded())[0]!),
    async open(box) {
      try {
        return open(box, await loaded());
      } catch {
        return open(box, await loaded(true)); // sealed under a key added since we last read them
      }
    },
  };
}
