-- Undo 0021: crm_raw.elt_loads and the error codes it added. Landed records stay (they are
-- ordinary versions in crm_raw.records); without the table the next crm_raw.land_from
-- (after `crm360 migrate` brings it back) re-reads every load, and identical versions are
-- stored once, so nothing is duplicated.
SET LOCAL lock_timeout = '5s';

DROP TABLE IF EXISTS crm_raw.elt_loads;
DELETE FROM crm.error_codes WHERE sqlstate IN ('CR043', '42703');
