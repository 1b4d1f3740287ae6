-- contract: drops iam_resolve_claims(text, text, text), which enrich-token called in releases built before 1763900000002_subject-claims
-- Up Migration
-- Contract step: enrich-token reads subject_claims now (…0002_subject-claims.sql); the
-- per-call PL/pgSQL lookup that preceded it has no caller left.
DROP FUNCTION iam_resolve_claims(text, text, text);

-- Down Migration
-- Recreate it from 1763800000007_resolve-claims-function.sql if ever needed.
SELECT 1;
