-- Drops crm360's schemas and everything in them. Extensions stay: other code may use them.
SET LOCAL lock_timeout = '5s';
DROP SCHEMA IF EXISTS crm_private CASCADE;
DROP SCHEMA IF EXISTS crm_raw CASCADE;
DROP SCHEMA IF EXISTS crm CASCADE;
