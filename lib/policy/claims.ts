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
  /** Tenant slug; may be omitted when the subject belongs to exactly one tenant. */
  tenant?: string | undefined;
  /** The OAuth client the token is issued to; disambiguates a subject in several tenants. */
  clientId?: string | undefined;
}

/** What the store found: either claims, or why there are none. */
export type ClaimsLookup =
  | { outcome: 'ok'; tenant: { id: string; slug: string }; subjectType: SubjectType; roles: string[]; permissions: string[] }
  | { outcome: 'tenant_not_found' | 'subject_not_found' | 'ambiguous' }
  | { outcome: 'tenant_suspended'; tenant: { id: string; slug: string } };
