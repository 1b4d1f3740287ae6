-- Up Migration
-- Who did what, where and when: every admin mutation and every denied admin request.
-- tenant_id is not a foreign key: the trail outlives the tenant it describes.
CREATE TABLE audit_log (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor       text        NOT NULL,
  tenant_id   uuid,
  action      text        NOT NULL,
  target      text        NOT NULL,
  result      text        NOT NULL CHECK (result IN ('success', 'denied', 'failed')),
  request_id  text        NOT NULL
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id);

-- Down Migration
DROP TABLE audit_log;
