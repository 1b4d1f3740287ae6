/** The policy resources the admin API manages, as the domain sees them. */
import type { ClientMetadata } from './idp-admin.js';

export type TenantStatus = 'active' | 'suspended';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface Role {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  permissions: string[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserMapping {
  tenantId: string;
  subject: string;
  subjectType: 'user' | 'client';
  roles: string[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** An OAuth client registered in the IdP through this service; also a subject (its machine tokens get `roles`). */
export interface Client {
  id: string;
  tenantId: string;
  clientId: string;
  /** RFC 7591 metadata as the IdP holds it. */
  metadata: ClientMetadata;
  roles: string[];
  /** RFC 7592 management: the client's URI and its registration access token, sealed (never in the clear at rest). */
  registration: { uri: string; sealedToken: string };
  createdBy: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface AuditEntry {
  id: string;
  occurredAt: Date;
  actor: string;
  tenantId: string | null;
  tenantSlug: string | null;
  action: string;
  target: string;
  result: 'success' | 'denied' | 'failed';
  requestId: string;
  /** How many requests the entry stands for: 1, or the denials of one (actor, tenant, action) in one minute. */
  count: number;
}

export interface PageRequest {
  limit: number;
  /** The sort key of the last item of the previous page. */
  after?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Sort key of the last item when more may follow. */
  last?: string | undefined;
}

/** The platform tenant holds the platform admins; it cannot be suspended or deleted. */
export const PLATFORM_TENANT = 'platform';
