/**
 * Amazon Cognito's pre token generation trigger (V2_0 / V3_0): no route and no Function URL; the
 * user pool's LambdaConfig names the function (README, "Cognito"). The dialect
 * (lib/gateway/cognito.ts) reads the event and answers with it; the event stack gives the
 * invocation its request id, log lines and metrics, and turns a failure into the PreTokenRefusal
 * Cognito shows the app.
 */
import { cognito, PreTokenRefusal, withinCognitoBudget } from '../lib/gateway/cognito.js';
import { answer } from '../lib/gateway/dialect.js';
import { eventFunction } from '../lib/observability/event-function.js';
import { enrichToken } from '../lib/policy/resolve-claims.js';
import { runtime } from '../lib/wiring/base.js';

const app = runtime();
const dialect = cognito(app.config.claims);
const { queryTimeoutMs } = app.config.database;

export const handler = eventFunction(
  app,
  {
    name: 'cognito-pre-token-generation',
    dialect: dialect.name,
    refusedMessage: 'token refused',
    refusal: (error, requestId) => new PreTokenRefusal(error, requestId),
  },
  async (event, context) => {
    const request = dialect.parse(event);
    const result = await answer(dialect, request, (query) =>
      withinCognitoBudget(enrichToken(app, query), queryTimeoutMs, context.getRemainingTimeInMillis?.()),
    );
    context.status = result.status; // 204: no change, for the metrics line
    return result.body;
  },
);
