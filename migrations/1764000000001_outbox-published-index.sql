-- Up Migration
-- Housekeeping deletes published events after a retention period (the outbox relay, every
-- minute): this keeps that delete from scanning the whole table. Expand only.
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Down Migration
DROP INDEX outbox_published_idx;
