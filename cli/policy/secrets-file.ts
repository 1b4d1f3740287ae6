/**
 * Where new clients' secrets go: a JSON file of mode 0600, never stdout. Each secret is written
 * as soon as the API returns it (a later failure cannot lose it), by replacing the file through
 * a rename, so the file is always whole; secrets of earlier runs in the same file are kept.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CliError } from './cli-error.js';

export interface ClientSecret {
  tenant: string;
  client_id: string;
  client_name: string;
  client_secret: string;
}

export interface SecretsFile {
  path: string;
  add(secret: ClientSecret): void;
}

/** Opens (and writes once, to fail before any change if it cannot be written) the secrets file. */
export function openSecretsFile(path: string): SecretsFile {
  let clients: ClientSecret[] = [];
  if (existsSync(path)) {
    try {
      clients = (JSON.parse(readFileSync(path, 'utf8')) as { clients: ClientSecret[] }).clients;
      if (!Array.isArray(clients)) throw new Error('no "clients" list');
    } catch (error) {
      throw new CliError(`--secrets-out ${path} exists and is not a secrets file this command wrote (${(error as Error).message}): name another file`);
    }
  }
  const write = () => {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ clients }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  };
  try {
    write();
  } catch (error) {
    throw new CliError(`cannot write --secrets-out ${path}: ${(error as Error).message}`);
  }
  return {
    path,
    add(secret) {
      clients.push(secret);
      write();
    },
  };
}
