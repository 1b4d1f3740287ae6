-- Up Migration
-- Create calls with an Idempotency-Key replay the first response. The request hash
-- detects the same key reused with a different body (422). Rows expire after a day.
CREATE TABLE idempotency_keys (
  scope         text        NOT NULL,
  key           text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  text        NOT NULL,
  status        integer,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL DEFAULT now() + interval '24 hours',
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- Down Migration
DROP TABLE idempotency_keys;
