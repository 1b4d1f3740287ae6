/**
 * Authenticated encryption at rest (AES-256-GCM) for small secrets such as RFC 7592 registration
 * access tokens. Format: `v1.<keyId>.<base64url iv>.<base64url ciphertext||tag>`. The version and
 * key id are bound as additional authenticated data, so neither can be swapped unnoticed; the key
 * id lets old rows be opened after the current key changes (pass every key still in use to open).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SealKey {
  /** Letters, digits, `_` and `-` only (it sits between dots in the sealed text). */
  id: string;
  /** 32 bytes. */
  bytes: Uint8Array;
}

export class SealedBoxError extends Error {}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

export function seal(plaintext: string, key: SealKey): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  cipher.setAAD(aad(key.id));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${key.id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** Throws SealedBoxError on a malformed or tampered box, or one sealed with a key not in `keys`. */
export function open(sealed: string, keys: readonly SealKey[]): string {
  const parts = sealed.split('.');
  if (parts.length !== 4) throw new SealedBoxError('malformed sealed box');
  const [version, keyId, ivText, bodyText] = parts as [string, string, string, string];
  if (version !== VERSION) throw new SealedBoxError(`unsupported sealed box version ${JSON.stringify(version.slice(0, 8))}`);
  if (!B64URL.test(ivText) || !B64URL.test(bodyText)) throw new SealedBoxError('malformed sealed box');
  const key = keys.find((k) => k.id === keyId);
  if (!key) throw new SealedBoxError('sealed with an unknown key');
  checkKey(key);
  const iv = Buffer.from(ivText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SealedBoxError('malformed sealed box');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(key.id));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new SealedBoxError('sealed box failed authentication', { cause });
  }
}

/** A key from configuration: `id` plus 32 bytes in base64 or base64url. */
export function sealKey(id: string, base64: string): SealKey {
  const key = { id, bytes: new Uint8Array(Buffer.from(base64, 'base64')) };
  checkKey(key);
  return key;
}

function checkKey(key: SealKey): void {
  if (!KEY_ID.test(key.id)) throw new SealedBoxError('seal key id must be 1-64 of [A-Za-z0-9_-]');
  if (key.bytes.length !== 32) throw new SealedBoxError('seal key must be 32 bytes');
}

function aad(keyId: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}`, 'utf8');
}
