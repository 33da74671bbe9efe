-- Undo 0007: drops the source links and the account-domain index.
SET LOCAL lock_timeout = '5s';
DROP INDEX IF EXISTS crm.nodes_org_domain;
DROP TABLE IF EXISTS crm.node_sources CASCADE;
