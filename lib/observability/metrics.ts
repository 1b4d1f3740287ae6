/**
 * The runbook's four metrics, as CloudWatch embedded-metric-format log lines
 * (aws-embedded-metrics). Names and dimensions are exactly the runbook's.
 */
import { createMetricsLogger, Unit } from 'aws-embedded-metrics';

export const METRIC = {
  httpRequests: 'http_requests_total',
  httpDuration: 'http_request_duration_seconds',
  idpErrors: 'idp_adapter_errors_total',
  databaseErrors: 'database_errors_total',
} as const;

export interface HttpObservation {
  handler: string;
  status: number;
  durationSeconds: number;
  requestId: string;
}

export interface Metrics {
  /** One EMF line per request; it doubles as the access log (request id, status, duration). */
  http(observation: HttpObservation): Promise<void>;
  databaseError(operation: string): Promise<void>;
  idpError(operation: string): Promise<void>;
}

export function createMetrics(namespace: string): Metrics {
  const counter = async (name: string, operation: string) => {
    const m = createMetricsLogger();
    m.setNamespace(namespace);
    m.setDimensions({ operation });
    m.putMetric(name, 1, Unit.Count);
    await m.flush();
  };
  return {
    async http({ handler, status, durationSeconds, requestId }) {
      const m = createMetricsLogger();
      m.setNamespace(namespace);
      // Both metrics are kept per handler and per handler + status class.
      m.setDimensions([{ handler }, { handler, status: `${Math.floor(status / 100)}xx` }]);
      m.putMetric(METRIC.httpRequests, 1, Unit.Count);
      m.putMetric(METRIC.httpDuration, durationSeconds, Unit.Seconds);
      m.setProperty('request_id', requestId);
      m.setProperty('http_status', status);
      await m.flush();
    },
    databaseError: (operation) => counter(METRIC.databaseErrors, operation),
    idpError: (operation) => counter(METRIC.idpErrors, operation),
  };
}
