-- transactional: false
-- 0029 Replays recognise a record by the text it arrived as (issue 16 item 3): crm_raw.records
-- gets raw_hash — the md5 of the payload exactly as the connector delivered it (and the
-- file's ticket for Zendesk comments) — and a partial index on it, so crm_raw.land_staged
-- recognises a record delivered again byte for byte without parsing it (parsing, key and
-- cursor extraction were most of a replay's time). Versions landed before this migration have
-- no raw_hash and take the parsing path. Built CONCURRENTLY (DESIGN §3), hence not
-- transactional; safe to run twice.
SET lock_timeout = '5s';
ALTER TABLE crm_raw.records ADD COLUMN IF NOT EXISTS raw_hash text;
COMMENT ON COLUMN crm_raw.records.raw_hash IS
    'md5 of the payload text as delivered (with the file''s ticket id for Zendesk comments): a later delivery of the same text is recognised without parsing it (crm_raw.land_staged); NULL for versions landed before migration 0029';
CREATE INDEX CONCURRENTLY IF NOT EXISTS records_raw ON crm_raw.records (source, object, raw_hash)
    WHERE raw_hash IS NOT NULL;
RESET lock_timeout;
