/** The authorization claims enrich-token hands the gateway. */
export type SubjectType = 'user' | 'client';

export interface Claims {
  subject: string;
  subject_type: SubjectType;
  tenant: { id: string; slug: string };
  roles: string[];
  permissions: string[];
}

export interface ClaimsQuery {
  subject: string;
  /** Tenant slug; when omitted: the subject's home tenant, else its only tenant (README, "Security"). */
  tenant?: string | undefined;
  /** The OAuth client the token is issued to; disambiguates a subject in several tenants. */
  clientId?: string | undefined;
}

/**
 * What the store found: either claims, or why there are none. `subject_not_found`: the subject is
 * in no tenant at all; `not_member`: it is in some tenant, but not in the one named — which may
 * not exist, or be suspended: the store never says which, so no answer tells a slug exists.
 */
export type ClaimsLookup =
  | { outcome: 'ok'; tenant: { id: string; slug: string }; subjectType: SubjectType; roles: string[]; permissions: string[] }
  | { outcome: 'subject_not_found' | 'not_member' | 'ambiguous' }
  | { outcome: 'tenant_suspended'; tenant: { id: string; slug: string } };
