/**
 * The IdP connection of a bundle: one transport (deadline, byte cap, counting) and one cached
 * discovery per cold start, shared by every IdP adapter the bundle builds (the JWT verifier, the
 * registration and inventory clients, the health checks), so a container discovers R-Auth once.
 */
import { oidcDiscovery, type OidcDiscovery } from '../adapters/oidc/discovery.js';
import { idpTransport, type IdpTransport } from '../adapters/oidc/transport.js';
import { type Config, requireIdpIssuer } from '../config.js';
import type { Runtime } from './base.js';

export interface IdpConnection {
  transport: IdpTransport;
  discovery: OidcDiscovery;
}

// Keyed by the cold start's one frozen Config, which every runtime built from it shares.
const connections = new WeakMap<Config, IdpConnection>();

export function idpConnection({ config, metrics, log }: Pick<Runtime, 'config' | 'metrics' | 'log'>, issuer: string = requireIdpIssuer(config)): IdpConnection {
  let connection = connections.get(config);
  if (!connection) {
    const transport = idpTransport({ timeoutMs: config.idp.timeoutMs, maxResponseBytes: config.idp.maxResponseBytes, metrics, log });
    connection = { transport, discovery: oidcDiscovery({ issuer, transport, timeoutMs: config.idp.timeoutMs }) };
    connections.set(config, connection);
  }
  return connection;
}
