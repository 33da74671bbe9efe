-- 0014 bulk apply: the proof that a transaction is inside crm360's own set-based
-- reconciliation (crm_private.rc_apply), so the per-row validation triggers of the graph
-- tables may be skipped for its statements — rc_apply validates and computes the same
-- things (types, required properties, labels, ACL copies, event ACLs) set-based instead.
-- Why: those triggers cost 50-250 µs per row (one query each) and, for events, wrote every
-- event and participant twice (insert, then an ACL update); a bulk load of 200k source
-- records writes ~700k graph rows.
-- Security: the row triggers are skipped only while the setting crm.bulk_apply is 'on'
-- (trigger WHEN clause), and a statement-level guard on each table refuses (42501) any
-- INSERT/UPDATE under that setting unless the current role owns schema crm AND this
-- transaction holds a row here — which only crm_private.bulk_apply_begin (called by rc_apply,
-- running as the owner) writes and crm_private.bulk_apply_end removes. Setting the GUC
-- yourself, then calling any SECURITY DEFINER function, is refused, not trusted.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_private.bulk_apply_xacts (
    xact       xid8 PRIMARY KEY,
    pid        integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm_private.bulk_apply_xacts IS
    'Transactions currently inside crm_private.rc_apply''s bulk mode (a row exists only during the transaction that wrote it; never committed with it). Read by crm_private.bulk_apply_ok().';
COMMENT ON COLUMN crm_private.bulk_apply_xacts.xact IS 'pg_current_xact_id() of the reconciling transaction';

-- ---------------------------------------------------------------- grants
REVOKE ALL ON crm_private.bulk_apply_xacts FROM PUBLIC;
