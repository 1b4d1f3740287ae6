/**
 * Checks real HTTP exchanges against `openapi.yaml`: the status is one the operation documents,
 * the content type is the documented one, the body validates against the documented schema
 * (JSON Schema 2020-12, ajv strict, all errors) and the documented headers are there. Every
 * exchange is recorded, so a test can also ask which operations it has exercised.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

const addFormats = addFormatsModule.default;

export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, unknown>;

export interface OpenApiDocument extends Json {
  openapi: string;
  paths: Record<string, Json>;
  components: Json & { schemas: Record<string, unknown> };
}

export interface DocumentedOperation {
  operationId: string;
  method: string;
  path: string;
  /** The operation object, `$ref`s not resolved. */
  operation: Json;
  /** Path-item and operation parameters, resolved (the operation's win by name and place). */
  parameters: Json[];
}

/** What one request and its response looked like on the wire. */
export interface Exchange {
  operationId: string;
  method: string;
  path: string;
  request: { headers: Record<string, string>; query: Record<string, string>; params: Record<string, string>; body?: unknown };
  status: number;
  headers: Headers;
  /** The raw response body ('' when there is none). */
  text: string;
}

export function loadOpenApi(path = OPENAPI_PATH): OpenApiDocument {
  return parse(readFileSync(path, 'utf8')) as OpenApiDocument;
}

/** Where the document's component schemas live for ajv, as `$defs` of one schema. */
const SCHEMAS_ID = 'https://iam-service.invalid/openapi.yaml';
const COMPONENT_SCHEMA = '#/components/schemas/';

/** Rewrites the document's `#/components/schemas/X` references to the `$defs` ajv knows. */
function forAjv(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_SCHEMA)
        ? [key, `${SCHEMAS_ID}#/$defs/${value.slice(COMPONENT_SCHEMA.length)}`]
        : [key, forAjv(value)],
    ),
  );
}

/** One line per ajv error: where, what, and the value the schema wanted when that helps. */
function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const params = e.params as { additionalProperty?: string; allowedValue?: unknown; allowedValues?: unknown };
    const extra =
      e.keyword === 'additionalProperties'
        ? ` "${String(params.additionalProperty)}"`
        : e.keyword === 'const'
          ? ` ${JSON.stringify(params.allowedValue)}`
          : e.keyword === 'enum'
            ? ` ${JSON.stringify(params.allowedValues)}`
            : '';
    return `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${extra}`;
  });
}

const mediaTypeOf = (contentType: string | null) => contentType?.split(';')[0]?.trim().toLowerCase();

export class OpenApiContract {
  readonly doc: OpenApiDocument;
  readonly ajv: Ajv2020;
  /** Every exchange checked, in order. */
  readonly exchanges: Exchange[] = [];
  private pending: string[] = [];
  private readonly validators = new Map<unknown, ValidateFunction>();
  private readonly byId = new Map<string, DocumentedOperation>();

  constructor(doc: OpenApiDocument = loadOpenApi()) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: SCHEMAS_ID, $defs: forAjv(doc.components.schemas) as Json });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of HTTP_METHODS) {
        const operation = item[method] as Json | undefined;
        if (!operation) continue;
        const parameters = new Map<string, Json>();
        for (const p of [...((item.parameters as unknown[]) ?? []), ...((operation.parameters as unknown[]) ?? [])]) {
          const resolved = this.resolve<Json>(p);
          parameters.set(`${String(resolved.in)} ${String(resolved.name).toLowerCase()}`, resolved);
        }
        const operationId = String(operation.operationId);
        this.byId.set(operationId, { operationId, method: method.toUpperCase(), path, operation, parameters: [...parameters.values()] });
      }
    }
  }

  operations(): DocumentedOperation[] {
    return [...this.byId.values()];
  }

  operation(operationId: string): DocumentedOperation {
    const found = this.byId.get(operationId);
    if (!found) throw new Error(`openapi.yaml has no operation "${operationId}"`);
    return found;
  }

  /** Follows a local `$ref` (`#/…`) until it reaches an object that is not one. */
  resolve<T = Json>(value: unknown): T {
    let current = value as Json;
    for (let hops = 0; typeof current?.$ref === 'string'; hops++) {
      const ref = current.$ref;
      if (!ref.startsWith('#/') || hops > 20) throw new Error(`cannot resolve $ref ${ref}`);
      let target: unknown = this.doc;
      for (const token of ref.slice(2).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))) {
        target = (target as Json | undefined)?.[token];
      }
      if (target === undefined) throw new Error(`$ref ${ref} points at nothing`);
      current = target as Json;
    }
    return current as T;
  }

  /** Every `$ref` in the document that points at nothing. */
  danglingRefs(): string[] {
    const dangling: string[] = [];
    const walk = (node: unknown) => {
      if (node === null || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach(walk);
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          try {
            this.resolve({ $ref: value });
          } catch (error) {
            dangling.push((error as Error).message);
          }
        } else walk(value);
      }
    };
    walk(this.doc);
    return dangling;
  }

  /** Compiles every component schema, so a schema ajv's strict mode refuses fails here. */
  compileAllSchemas(): void {
    for (const name of Object.keys(this.doc.components.schemas)) this.validator({ $ref: `${COMPONENT_SCHEMA}${name}` });
  }

  /** Errors of `value` against a schema of the document ([] when it validates). */
  schemaErrors(schema: unknown, value: unknown): string[] {
    const validate = this.validator(schema);
    return validate(value) ? [] : formatErrors(validate.errors);
  }

  /** Errors of a request body against the operation's documented request body. */
  requestBodyErrors(operationId: string, body: unknown): string[] {
    const requestBody = this.resolve<Json | undefined>(this.operation(operationId).operation.requestBody);
    const media = (requestBody?.content as Record<string, Json> | undefined)?.['application/json'];
    if (!media) return ['the operation documents no application/json request body'];
    return this.schemaErrors(media.schema, body);
  }

  /** Checks one exchange against the document; what is wrong is kept for `drain()`. */
  check(exchange: Exchange): string[] {
    this.exchanges.push(exchange);
    const { operationId, method, path, status } = exchange;
    const label = `${method} ${path} (${operationId}) → ${status}`;
    const found: string[] = [];
    const fail = (message: string) => found.push(`${label}: ${message}`);
    const { operation } = this.operation(operationId);
    const responses = operation.responses as Record<string, unknown>;

    const documented = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    if (documented === undefined) {
      fail(`status ${status} is not documented (documented: ${Object.keys(responses).join(', ')}); body: ${exchange.text.slice(0, 300)}`);
    } else {
      const response = this.resolve<Json>(documented);
      for (const [name, header] of Object.entries((response.headers as Record<string, unknown>) ?? {})) {
        const spec = this.resolve<Json>(header);
        const value = exchange.headers.get(name);
        if (value === null) {
          if (spec.required === true) fail(`required header ${name} is missing`);
          continue;
        }
        for (const error of this.schemaErrors(spec.schema, value)) fail(`header ${name}: ${JSON.stringify(value)}: ${error.replace(/^\(root\) /, '')}`);
      }
      const content = response.content as Record<string, Json> | undefined;
      const mediaType = mediaTypeOf(exchange.headers.get('content-type'));
      if (!content) {
        if (exchange.text !== '') fail(`the document says no body, but one came (${mediaType}): ${exchange.text.slice(0, 300)}`);
      } else if (mediaType === undefined || !content[mediaType]) {
        fail(`content type ${String(mediaType)} is not documented (documented: ${Object.keys(content).join(', ')})`);
      } else {
        let body: unknown;
        try {
          body = JSON.parse(exchange.text);
        } catch {
          fail(`the body is not JSON: ${exchange.text.slice(0, 300)}`);
        }
        if (body !== undefined) {
          for (const error of this.schemaErrors(content[mediaType]!.schema, body)) fail(`body ${error}`);
          const requestId = (body as Json | null)?.request_id;
          if (mediaType === 'application/problem+json' && requestId !== exchange.headers.get('x-request-id')) {
            fail(`the problem's request_id ${JSON.stringify(requestId)} is not the X-Request-Id header ${exchange.headers.get('x-request-id')}`);
          }
        }
      }
    }

    // A request the service accepted must be one the document allows.
    if (status >= 200 && status < 300) {
      for (const error of this.requestErrors(exchange)) fail(`the service accepted a request the document refuses: ${error}`);
    }
    this.pending.push(...found);
    return found;
  }

  /** The violations found since the last call. */
  drain(): string[] {
    const found = this.pending;
    this.pending = [];
    return found;
  }

  /** Statuses seen per operation id. */
  exercised(): Map<string, Set<number>> {
    const seen = new Map<string, Set<number>>();
    for (const { operationId, status } of this.exchanges) seen.set(operationId, (seen.get(operationId) ?? new Set()).add(status));
    return seen;
  }

  private requestErrors(exchange: Exchange): string[] {
    const { operation, parameters } = this.operation(exchange.operationId);
    const errors: string[] = [];
    const headers = Object.fromEntries(Object.entries(exchange.request.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const sources: Record<string, Record<string, string>> = { path: exchange.request.params, query: exchange.request.query, header: headers };
    for (const parameter of parameters) {
      const where = String(parameter.in);
      const name = String(parameter.name);
      const value = sources[where]?.[where === 'header' ? name.toLowerCase() : name];
      if (value === undefined) {
        if (parameter.required === true) errors.push(`${where} parameter ${name} is required`);
        continue;
      }
      const schema = this.resolve<Json>(parameter.schema);
      const typed = schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
      for (const error of this.schemaErrors(parameter.schema, typed)) errors.push(`${where} parameter ${name}=${JSON.stringify(value)} ${error}`);
    }
    for (const name of Object.keys(exchange.request.query)) {
      if (!parameters.some((p) => p.in === 'query' && p.name === name)) errors.push(`query parameter ${name} is not documented`);
    }
    if (operation.requestBody !== undefined) {
      if (exchange.request.body === undefined) errors.push('the request body is missing');
      else errors.push(...this.requestBodyErrors(exchange.operationId, exchange.request.body).map((e) => `request body ${e}`));
    } else if (exchange.request.body !== undefined) {
      errors.push('the operation documents no request body');
    }
    return errors;
  }

  private validator(schema: unknown): ValidateFunction {
    let validate = this.validators.get(schema);
    if (!validate) {
      validate = this.ajv.compile(forAjv(schema) as Json);
      this.validators.set(schema, validate);
    }
    return validate;
  }
}
