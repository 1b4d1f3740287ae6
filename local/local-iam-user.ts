/**
 * The one IAM user the local Function URL knows: an access key pair that `npm start` makes on
 * first start and keeps in .local/state.json, and the identity Lambda would put in the event
 * (`requestContext.authorizer.iam`) for a request it signed. Nothing here is valid in AWS.
 */
import { randomBytes } from 'node:crypto';
import type { SigningKey } from './sigv4-verifier.js';

/** serverless.yml's default region: the scope a local signature must name. */
export const LOCAL_REGION = 'eu-west-1';
export const LOCAL_SERVICE = 'lambda';
/** The account id AWS's local tools use; no real account has it. */
export const LOCAL_ACCOUNT_ID = '000000000000';
const USER_NAME = 'iam-service-local-gateway';

export interface LocalIamUser {
  access_key_id: string;
  secret_access_key: string;
  user_id: string;
}

/** Shaped like AWS's: `AKIA` + 16 base32 characters, a 40-character secret, an `AIDA…` user id. */
export function newLocalIamUser(): LocalIamUser {
  return {
    access_key_id: `AKIA${base32(16)}`,
    secret_access_key: randomBytes(30).toString('base64'),
    user_id: `AIDA${base32(17)}`,
  };
}

export function signingKeys(user: LocalIamUser): Map<string, SigningKey> {
  const identity = {
    accessKey: user.access_key_id,
    accountId: LOCAL_ACCOUNT_ID,
    callerId: user.user_id,
    userArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${USER_NAME}`,
    userId: user.user_id,
  };
  return new Map([[user.access_key_id, { secretAccessKey: user.secret_access_key, identity }]]);
}

function base32(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(length)].map((byte) => alphabet[byte & 31]).join('');
}
