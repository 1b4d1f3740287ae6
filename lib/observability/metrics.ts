/**
 * The runbook's metrics, as CloudWatch embedded-metric-format (EMF) log lines written by
 * aws-embedded-metrics: one JSON object per line whose `_aws` member tells CloudWatch which fields
 * are metrics and which are dimensions (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 *
 * The library's validation and serialization, at the lowest cost it allows (README, "Performance"):
 *   - each line is one of the library's MetricsContexts, validated by it as the metrics go in, and
 *     turned into the line by its own LogSerializer; that is all MetricsLogger.flush() does too,
 *     besides what we leave out: environment detection and default dimensions (`setDimensions`
 *     drops them), an async flush (a generator and two awaits) and a second context made after
 *     every flush for the next one (~3 µs of a request's CPU);
 *   - namespace and dimension sets are validated once per combination of values (a handler has at
 *     most five status classes): each line's context is a copy of a template that holds them.
 * Names, units and dimensions are exactly the runbook's.
 */
import './emf-environment.js';
import { Unit } from 'aws-embedded-metrics';
import { MetricsContext } from 'aws-embedded-metrics/lib/logger/MetricsContext.js';
import { LogSerializer } from 'aws-embedded-metrics/lib/serializers/LogSerializer.js';

export const METRIC = {
  httpRequests: 'http_requests_total',
  httpDuration: 'http_request_duration_seconds',
  idpErrors: 'idp_adapter_errors_total',
  databaseErrors: 'database_errors_total',
  /** A gauge, one per outbox relay run: how long the oldest unpublished event has waited (0: none). */
  outboxOldestUnpublishedAge: 'outbox_oldest_unpublished_age_seconds',
} as const;

/** The runbook's dimension names (its queries name them: test/unit/runbook.test.ts reads them here). */
const DIMENSION = { handler: 'handler', status: 'status', dialect: 'dialect', operation: 'operation', service: 'service' } as const;
const SERVICE = 'iam-service';

export interface HttpObservation {
  /** The route (`/system/enrich-token`), or an event function's name (`outbox-relay`). */
  handler: string;
  /** Which gateway's language the request spoke (enrich-token: native, hydra, oathkeeper, …). */
  dialect?: string | undefined;
  status: number;
  durationSeconds: number;
  requestId: string;
}

export interface Metrics {
  /**
   * One EMF line per invocation; it doubles as the access log (request id, status, duration).
   * Resolves once the line is written; never rejects (a metric must not fail a request).
   */
  http(observation: HttpObservation): Promise<void>;
  databaseError(operation: string): void;
  idpError(operation: string): void;
  outboxOldestUnpublishedAge(seconds: number): void;
}

type DimensionSet = Record<string, string>;
export type LineWriter = (line: string) => void;

const stdout: LineWriter = (line) => process.stdout.write(line + '\n');

/** Where a line that could not be written is reported: stderr, which Lambda ships too. */
const dropped = (error: unknown) =>
  process.stderr.write(`${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: 'metrics line dropped', reason: String(error) })}\n`);

export function createMetrics(namespace: string, write: LineWriter = stdout): Metrics {
  const serializer = new LogSerializer();
  /** A template: the namespace and dimension sets, validated by the library once. */
  const template = (dimensions: DimensionSet[]): MetricsContext => {
    const context = MetricsContext.empty();
    context.setNamespace(namespace);
    context.setDimensions(dimensions, false);
    return context;
  };
  /** The library's serialization of a line (its callers catch what it throws: a line is dropped, never a request). */
  const emit = (line: MetricsContext): void => {
    for (const text of serializer.serialize(line)) write(text);
  };
  const templates = new Map<string, MetricsContext>();
  /** A fresh context for one line (timestamped now, with no values), copied from its template. */
  const context = (key: string, dimensions: () => DimensionSet[]): MetricsContext => {
    let found = templates.get(key);
    if (!found) templates.set(key, (found = template(dimensions())));
    return found.createCopyWithContext();
  };
  const done = Promise.resolve();
  const counter = (name: typeof METRIC.databaseErrors | typeof METRIC.idpErrors, operation: string) => {
    try {
      // Per operation (the runbook's dimension) and per service: the alarms watch the total.
      const line = context(`${name} ${operation}`, (): DimensionSet[] => [{ [DIMENSION.operation]: operation }, { [DIMENSION.service]: SERVICE }]);
      line.putMetric(name, 1, Unit.Count);
      emit(line);
    } catch (error) {
      dropped(error);
    }
  };

  /** Per handler, per dialect (or none), per status class: no key string built per request. */
  const httpTemplates = new Map<string, Map<string, MetricsContext[]>>();
  const httpContext = (handler: string, dialect: string | undefined, statusHundreds: number): MetricsContext => {
    let byDialect = httpTemplates.get(handler);
    if (!byDialect) httpTemplates.set(handler, (byDialect = new Map()));
    let byStatus = byDialect.get(dialect ?? '');
    if (!byStatus) byDialect.set(dialect ?? '', (byStatus = []));
    let found = byStatus[statusHundreds];
    if (!found) {
      const statusClass = `${statusHundreds}xx`;
      // Both metrics per handler and per handler + status class; enrich-token's dialects are
      // kept apart too, while the per-handler totals (and the alarms) stay whole.
      const perHandler = { [DIMENSION.handler]: handler };
      const perStatus = { [DIMENSION.handler]: handler, [DIMENSION.status]: statusClass };
      const dimensions: DimensionSet[] =
        dialect === undefined ? [perHandler, perStatus] : [perHandler, perStatus, { [DIMENSION.handler]: handler, [DIMENSION.dialect]: dialect }];
      byStatus[statusHundreds] = found = template(dimensions);
    }
    return found.createCopyWithContext();
  };

  return {
    // The line is written before this returns; the promise only keeps the interface's shape.
    http({ handler, dialect, status, durationSeconds, requestId }) {
      try {
        const line = httpContext(handler, dialect, Math.floor(status / 100));
        line.putMetric(METRIC.httpRequests, 1, Unit.Count);
        line.putMetric(METRIC.httpDuration, durationSeconds, Unit.Seconds);
        line.setProperty('request_id', requestId);
        line.setProperty('http_status', status);
        emit(line);
      } catch (error) {
        dropped(error);
      }
      return done;
    },
    databaseError: (operation) => counter(METRIC.databaseErrors, operation),
    idpError: (operation) => counter(METRIC.idpErrors, operation),
    outboxOldestUnpublishedAge(seconds) {
      try {
        // A gauge of the whole service: one dimension set, no per-operation split.
        const line = context(METRIC.outboxOldestUnpublishedAge, () => [{ [DIMENSION.service]: SERVICE }]);
        line.putMetric(METRIC.outboxOldestUnpublishedAge, seconds, Unit.Seconds);
        emit(line);
      } catch (error) {
        dropped(error);
      }
    },
  };
}
