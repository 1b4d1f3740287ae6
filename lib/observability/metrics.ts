/**
 * The runbook's metrics, as CloudWatch embedded-metric-format (EMF) log lines written by
 * aws-embedded-metrics: one JSON object per line whose `_aws` member tells CloudWatch which fields
 * are metrics and which are dimensions (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 *
 * The library's validation and serialization, at the lowest cost it allows (README, "Performance"):
 *   - one MetricsLogger per invocation (per event for the error counters and the relay's gauge),
 *     and one flush of it;
 *   - the environment is fixed once per cold start (`fixedEnvironment`): no detection, no
 *     per-flush reading of Lambda's variables, no default dimensions — `setDimensions` drops them;
 *   - namespace and dimension sets are validated once per combination of values (a handler has at
 *     most five status classes): each logger is a `new()` copy of a template that holds them.
 * Names, units and dimensions are exactly the runbook's.
 */
import './emf-environment.js';
import { MetricsLogger, Unit } from 'aws-embedded-metrics';
import type { IEnvironment } from 'aws-embedded-metrics/lib/environment/IEnvironment.js';
import type { MetricsContext } from 'aws-embedded-metrics/lib/logger/MetricsContext.js';
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

/**
 * The library's environment, decided once: its sink serializes with the library's own serializer
 * and writes each line through `write` (stdout, like the JSON logs, so tests and the bench see
 * both); nothing else in it is read at flush time.
 */
function fixedEnvironment(write: LineWriter): () => Promise<IEnvironment> {
  const serializer = new LogSerializer();
  const written = Promise.resolve();
  const sink = {
    name: 'LineSink',
    accept: (context: MetricsContext) => {
      for (const line of serializer.serialize(context)) write(line);
      return written;
    },
  };
  const environment: IEnvironment = {
    probe: () => Promise.resolve(true),
    getName: () => SERVICE,
    getType: () => 'AWS::Lambda::Function',
    getLogGroupName: () => SERVICE,
    // The library's LambdaEnvironment reads five variables here on every flush: nothing we chart.
    configureContext: () => undefined,
    // One sink for the cold start: the library asks for it on every flush.
    getSink: () => sink,
  };
  const resolved = Promise.resolve(environment);
  return () => resolved;
}

export function createMetrics(namespace: string, write: LineWriter = stdout): Metrics {
  const environment = fixedEnvironment(write);
  const templates = new Map<string, MetricsLogger>();
  /** A fresh logger for one line, copied from a template whose namespace and dimensions were validated when first used. */
  const logger = (key: string, dimensions: () => DimensionSet[]): MetricsLogger => {
    let template = templates.get(key);
    if (!template) {
      template = new MetricsLogger(environment).setNamespace(namespace).setDimensions(dimensions(), false);
      templates.set(key, template);
    }
    const fresh = template.new();
    // After its one flush the logger is dropped: the copy it would keep needs no dimensions.
    fresh.flushPreserveDimensions = false;
    return fresh;
  };
  const drop = (error: unknown): void => void dropped(error);
  const flush = (line: MetricsLogger): Promise<void> => line.flush().catch(drop);
  const done = Promise.resolve();
  const counter = (name: typeof METRIC.databaseErrors | typeof METRIC.idpErrors, operation: string) => {
    try {
      // Per operation (the runbook's dimension) and per service: the alarms watch the total.
      void flush(logger(`${name} ${operation}`, (): DimensionSet[] => [{ [DIMENSION.operation]: operation }, { [DIMENSION.service]: SERVICE }]).putMetric(name, 1, Unit.Count));
    } catch (error) {
      dropped(error);
    }
  };

  /** Per handler, per dialect (or none), per status class: no key string built per request. */
  const httpTemplates = new Map<string, Map<string, MetricsLogger[]>>();
  const httpLogger = (handler: string, dialect: string | undefined, statusHundreds: number): MetricsLogger => {
    let byDialect = httpTemplates.get(handler);
    if (!byDialect) httpTemplates.set(handler, (byDialect = new Map()));
    let byStatus = byDialect.get(dialect ?? '');
    if (!byStatus) byDialect.set(dialect ?? '', (byStatus = []));
    let template = byStatus[statusHundreds];
    if (!template) {
      const statusClass = `${statusHundreds}xx`;
      // Both metrics per handler and per handler + status class; enrich-token's dialects are
      // kept apart too, while the per-handler totals (and the alarms) stay whole.
      const perHandler = { [DIMENSION.handler]: handler };
      const perStatus = { [DIMENSION.handler]: handler, [DIMENSION.status]: statusClass };
      const dimensions: DimensionSet[] =
        dialect === undefined ? [perHandler, perStatus] : [perHandler, perStatus, { [DIMENSION.handler]: handler, [DIMENSION.dialect]: dialect }];
      template = new MetricsLogger(environment).setNamespace(namespace).setDimensions(dimensions, false);
      byStatus[statusHundreds] = template;
    }
    const fresh = template.new();
    fresh.flushPreserveDimensions = false;
    return fresh;
  };

  return {
    // Not `async`: the flush's own promise is the answer (one promise less per request).
    http({ handler, dialect, status, durationSeconds, requestId }) {
      try {
        return flush(
          httpLogger(handler, dialect, Math.floor(status / 100))
            .putMetric(METRIC.httpRequests, 1, Unit.Count)
            .putMetric(METRIC.httpDuration, durationSeconds, Unit.Seconds)
            .setProperty('request_id', requestId)
            .setProperty('http_status', status),
        );
      } catch (error) {
        dropped(error);
        return done;
      }
    },
    databaseError: (operation) => counter(METRIC.databaseErrors, operation),
    idpError: (operation) => counter(METRIC.idpErrors, operation),
    outboxOldestUnpublishedAge(seconds) {
      try {
        // A gauge of the whole service: one dimension set, no per-operation split.
        const line = logger(METRIC.outboxOldestUnpublishedAge, () => [{ [DIMENSION.service]: SERVICE }]);
        void flush(line.putMetric(METRIC.outboxOldestUnpublishedAge, seconds, Unit.Seconds));
      } catch (error) {
        dropped(error);
      }
    },
  };
}
