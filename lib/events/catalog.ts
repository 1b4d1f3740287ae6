/**
 * The versioned catalog of domain events. Each is a CloudEvents 1.0 JSON envelope published
 * on the NATS subject equal to its `type` (`citadel.iam.<entity>.<action>`). `id` is also the
 * JetStream Nats-Msg-Id, so publishing an event twice never duplicates it. Events carry
 * identifiers and policy data only: never a secret.
 */
import { randomUUID } from 'node:crypto';

export const EVENT_SOURCE = 'urn:citadel:iam-service';

/**
 * The JetStream stream that keeps the events: every subject of this catalog, on file, with a
 * duplicate window longer than the relay's interval (a minute in AWS) so that a re-publish by
 * the relay is dropped as a duplicate. In AWS it is infrastructure; `npm start` creates it.
 */
export const EVENT_STREAM = { name: 'CITADEL_IAM', subjects: ['citadel.iam.>'], storage: 'file', minDuplicateWindowMs: 2 * 60_000 } as const;

export const EVENT_TYPES = [
  'citadel.iam.tenant.created',
  'citadel.iam.tenant.updated',
  'citadel.iam.tenant.deleted',
  'citadel.iam.role.created',
  'citadel.iam.role.updated',
  'citadel.iam.role.deleted',
  'citadel.iam.user.roles_set',
  'citadel.iam.user.removed',
  'citadel.iam.client.created',
  'citadel.iam.client.updated',
  'citadel.iam.client.secret_rotated',
  'citadel.iam.client.deleted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface CloudEvent<D = Record<string, unknown>> {
  specversion: '1.0';
  id: string;
  source: string;
  type: EventType;
  /** The resource the event is about, e.g. `tenants/acme/roles/viewer`. */
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** Schema version of `data`; bump it when a field changes meaning. */
  dataschemaversion: '1';
  /** Who made the change (the admin's `sub`), for consumers that audit. */
  actor: string;
  data: D;
}

export function cloudEvent<D extends Record<string, unknown>>(
  type: EventType,
  subject: string,
  actor: string,
  data: D,
  now: Date = new Date(),
): CloudEvent<D> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: EVENT_SOURCE,
    type,
    subject,
    time: now.toISOString(),
    datacontenttype: 'application/json',
    dataschemaversion: '1',
    actor,
    data,
  };
}
