-- 0001 foundation: schemas and extensions.
-- crm          public surface: core tables (RLS), views, functions
-- crm_raw      landing tables written by connectors, sync runs, cursors
-- crm_private  helpers, counters, materialized-view storage; never granted to users
-- extensions   vector + pg_trgm live here so every reference can be schema-qualified
SET LOCAL lock_timeout = '5s';

CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;

CREATE SCHEMA IF NOT EXISTS crm;
CREATE SCHEMA IF NOT EXISTS crm_raw;
CREATE SCHEMA IF NOT EXISTS crm_private;

COMMENT ON SCHEMA crm IS 'crm360 public surface: the knowledge-graph core tables, views and functions';
COMMENT ON SCHEMA crm_raw IS 'crm360 raw landing: source records as received, sync runs and cursors';
COMMENT ON SCHEMA crm_private IS 'crm360 internals: helpers, counters, materialized-view storage; not for direct use';
COMMENT ON SCHEMA extensions IS 'extensions used by crm360 (vector, pg_trgm)';

REVOKE ALL ON SCHEMA crm_private FROM PUBLIC;
REVOKE CREATE ON SCHEMA crm, crm_raw, extensions FROM PUBLIC;
