/**
 * Ready-made requests in each caller's language for the demo subject, written by `npm start` to
 * .local/requests/: what Ory Hydra's token hook and Oathkeeper's hydrator POST to enrich-token,
 * and the event Cognito passes to the pre-token-generation trigger (a Lambda invocation, not
 * HTTP: `npm run invoke -- cognito .local/requests/cognito-v2.json` runs it, local/invoke.ts).
 * The shapes are the vendors' (trimmed to what a real one carries); the tests send these files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO } from './seed.js';

const DEFAULT_DIR = fileURLToPath(new URL('../.local', import.meta.url));

export interface ReadyRequests {
  dir: string;
  /** What to run for each, ready to paste (from the checkout). */
  hydra: string;
  oathkeeper: string;
  cognito: string;
}

export function hydraTokenHook(subject: string) {
  return {
    session: {
      id_token: {
        id_token_claims: { iss: 'https://hydra.example/', sub: subject, aud: ['web-app'], ext: {} },
        headers: { extra: {} },
        username: '',
        subject,
      },
      extra: {},
      client_id: 'web-app',
      consent_challenge: 'local-consent',
      exclude_not_before_claim: false,
      allowed_top_level_claims: [],
      mirror_top_level_claims: true,
    },
    request: {
      client_id: 'web-app',
      requested_scopes: ['openid', 'offline'],
      granted_scopes: ['openid', 'offline'],
      requested_audience: [],
      granted_audience: [],
      grant_types: ['authorization_code'],
      payload: {},
    },
  };
}

export function oathkeeperHydratorSession(subject: string) {
  return {
    subject,
    extra: { iss: 'https://idp.example/' },
    header: {},
    match_context: { regexp_capture_groups: [], url: 'https://api.example/invoices/42', method: 'GET', header: {} },
  };
}

/** A user sign-in, V2_0 (LambdaVersion); V3_0 is the same for users. */
export function cognitoPreTokenEvent(sub: string) {
  return {
    version: '2',
    triggerSource: 'TokenGeneration_Authentication',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_LOCAL',
    userName: sub,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'local-web-client' },
    request: {
      userAttributes: { sub, 'cognito:user_status': 'CONFIRMED', email_verified: 'true', email: `${sub}@example.com` },
      groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: null },
    },
    response: { claimsAndScopeOverrideDetails: null },
  };
}

export function writeReadyRequests(stateDir: string, urls: { enrichUrl: string; apiKey: string }): ReadyRequests {
  const dir = join(stateDir, 'requests');
  mkdirSync(dir, { recursive: true });
  const files = {
    hydra: hydraTokenHook(DEMO.subject),
    oathkeeper: oathkeeperHydratorSession(DEMO.subject),
    'cognito-v2': cognitoPreTokenEvent(DEMO.subject),
  };
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, `${name}.json`), JSON.stringify(body, null, 2) + '\n');
  const post = `curl -s -X POST ${urls.enrichUrl} -H 'content-type: application/json'`;
  return {
    dir,
    // Hydra sends the key as X-API-Key; Oathkeeper as a Basic password (README, the dialects).
    hydra: `${post} -H 'x-api-key: ${urls.apiKey}' -d @${join(dir, 'hydra.json')}`,
    oathkeeper: `${post} -u 'oathkeeper:${urls.apiKey}' -d @${join(dir, 'oathkeeper.json')}`,
    // invoke finds the stack through IAM_LOCAL_DIR, as npm start does.
    cognito: `${resolve(stateDir) === DEFAULT_DIR ? '' : `IAM_LOCAL_DIR=${stateDir} `}npm run -s invoke -- cognito ${join(dir, 'cognito-v2.json')}`,
  };
}
