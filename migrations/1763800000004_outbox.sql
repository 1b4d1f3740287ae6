-- Up Migration
-- Domain events (CloudEvents 1.0), written in the transaction of the change they describe
-- and published to NATS after commit or by the relay. `id` is the CloudEvents id and the
-- JetStream Nats-Msg-Id, so publishing twice is harmless.
CREATE TABLE outbox (
  id            uuid        PRIMARY KEY,
  subject       text        NOT NULL,
  event         jsonb       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz,
  attempts      integer     NOT NULL DEFAULT 0
);
-- The relay scans only what is still unpublished, oldest first.
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;

-- Down Migration
DROP TABLE outbox;
