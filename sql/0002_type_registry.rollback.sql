SET LOCAL lock_timeout = '5s';
DROP TABLE IF EXISTS crm.error_codes;
DROP TABLE IF EXISTS crm.event_types CASCADE;
DROP TABLE IF EXISTS crm.assertion_types CASCADE;
DROP TABLE IF EXISTS crm.edge_types CASCADE;
DROP TABLE IF EXISTS crm.node_types CASCADE;
