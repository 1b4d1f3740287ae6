/**
 * Reading a policy file: YAML syntax, then the JSON Schema, then the references inside it (a
 * mapping's role must be one of the tenant's roles). Every problem is reported, each with its
 * line and column, before anything talks to the API.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { PolicyDocument } from './model.js';

/** The file's JSON Schema, shipped in the repo for editors (`# yaml-language-server: $schema=…`). */
export const SCHEMA_PATH = fileURLToPath(new URL('../../schemas/policy-file.schema.json', import.meta.url));
export const POLICY_SCHEMA = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { $id: string; definitions: Record<string, object> };

export interface FileProblem {
  line: number;
  col: number;
  message: string;
}

export class PolicyFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: FileProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}:${p.col}: ${p.message}`).join('\n'));
  }
}

// Lengths are counted in code points (ajv's default), as the admin API's zod counts them.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const validate = ajv.compile<PolicyDocument>(POLICY_SCHEMA);

export function readPolicyFile(path: string): PolicyDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyFileError(path, [{ line: 0, col: 0, message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parsePolicy(text, path);
}

export function parsePolicy(text: string, file: string): PolicyDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  if (doc.errors.length > 0) {
    throw new PolicyFileError(file, doc.errors.map((e) => ({ ...at(e.pos[0]), message: `YAML: ${firstLine(e.message)}` })));
  }
  const value: unknown = doc.toJS();
  if (!validate(value)) {
    const problems = (validate.errors ?? []).filter(notNoise).map((e) => ({ ...at(offsetOf(doc, e)), message: describe(e) }));
    throw new PolicyFileError(file, dedupe(problems));
  }
  const references = referenceProblems(value).map(({ path, message }) => ({ ...at(nodeAt(doc, path)?.range?.[0] ?? 0), message }));
  if (references.length > 0) throw new PolicyFileError(file, references);
  return value;
}

const firstLine = (message: string) => message.split('\n')[0]!;

/** ajv's `if`/`anyOf` wrappers say nothing a reader needs beside the errors they wrap. */
const notNoise = (e: ErrorObject) => e.keyword !== 'if' && e.keyword !== 'anyOf' && e.keyword !== 'propertyNames';

function dedupe(problems: FileProblem[]): FileProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => !seen.has(`${p.line}:${p.col}:${p.message}`) && seen.add(`${p.line}:${p.col}:${p.message}`))
    .sort((a, b) => a.line - b.line || a.col - b.col);
}

const pointerPath = (pointer: string): string[] =>
  pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

function nodeAt(doc: Document, path: readonly (string | number)[]): Node | undefined {
  const node = doc.getIn(path, true);
  return node && typeof node === 'object' && 'range' in node ? (node as Node) : undefined;
}

/** The key node of `name` in the map at `path` (where an unknown or badly named key is written). */
function keyAt(doc: Document, path: readonly string[], name: string): Node | undefined {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === name);
  return pair?.key as Node | undefined;
}

function offsetOf(doc: Document, error: ErrorObject): number {
  const path = pointerPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const key =
    error.keyword === 'additionalProperties' ? keyAt(doc, path, String(params.additionalProperty))
    : error.propertyName !== undefined ? keyAt(doc, path, error.propertyName)
    // A missing field is reported at the key of the object that lacks it.
    : error.keyword === 'required' && path.length > 0 ? keyAt(doc, path.slice(0, -1), path.at(-1)!)
    : undefined;
  const node = key ?? nodeAt(doc, path) ?? (path.length === 0 ? (doc.contents as Node | null) : undefined);
  return node?.range?.[0] ?? 0;
}

function describe(error: ErrorObject): string {
  const path = pointerPath(error.instancePath).join('.');
  // Inside propertyNames ajv reports the map's path and names the offending key apart.
  const where = error.propertyName !== undefined ? `${path ? `${path}: key` : 'key'} "${error.propertyName}"` : path || 'the file';
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where}: unknown field "${String(params.additionalProperty)}"`;
    case 'propertyNames':
      return `${where}: "${String(params.propertyName)}" is not a valid key here`;
    case 'required':
      return `${where}: "${String(params.missingProperty)}" is required`;
    case 'pattern': {
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      return `${where}: ${description ? `must be ${lowerFirst(description)}` : `must match ${String(params.pattern)}`}`;
    }
    case 'enum':
      return `${where}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'uniqueItems':
      return `${where}: items ${String(params.j)} and ${String(params.i)} are the same`;
    default:
      return `${where}: ${error.message ?? error.keyword}`;
  }
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1).replace(/\.$/, '');

/** Roles named by mappings and clients that the tenant's own `roles` section does not define; client names used twice. */
function referenceProblems(policy: PolicyDocument): Array<{ path: (string | number)[]; message: string }> {
  const problems: Array<{ path: (string | number)[]; message: string }> = [];
  for (const [slug, tenant] of Object.entries(policy.tenants)) {
    const roles = tenant.roles === undefined ? undefined : new Set(Object.keys(tenant.roles));
    const unknownRoles = (names: string[], path: (string | number)[]) =>
      names.forEach((name, i) => {
        if (roles && !roles.has(name)) problems.push({ path: [...path, i], message: `${[...path, i].join('.')}: role "${name}" is not in tenants.${slug}.roles` });
      });
    for (const [subject, names] of Object.entries(tenant.users ?? {})) unknownRoles(names, ['tenants', slug, 'users', subject]);
    const names = new Map<string, number>();
    const ids = new Map<string, number>();
    (tenant.clients ?? []).forEach((client, i) => {
      const path = ['tenants', slug, 'clients', i];
      unknownRoles(client.roles ?? [], [...path, 'roles']);
      if (client.client_id !== undefined) {
        if (ids.has(client.client_id)) problems.push({ path, message: `${path.join('.')}: client_id "${client.client_id}" is also clients.${ids.get(client.client_id)}` });
        ids.set(client.client_id, i);
      } else {
        if (names.has(client.client_name)) {
          problems.push({ path, message: `${path.join('.')}: two clients without client_id are named "${client.client_name}"; give each its client_id or another name` });
        }
        names.set(client.client_name, i);
      }
    });
  }
  return problems;
}
