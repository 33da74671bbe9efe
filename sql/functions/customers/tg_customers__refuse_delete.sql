-- Refuse-delete triggers of the customer model's tables (crm_private.tg_refuse_delete, the
-- core's one definition): history rows (tag assignments, segment memberships, notes and their
-- versions, tasks) and the libraries (tags, fit criteria) are never deleted — closed, archived
-- or superseded instead — except under crm.purge_node's legal erasure, whose foreign-key
-- cascades run as crm360 with the purge flag (the only case tg_refuse_delete lets through).
DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['tags', 'node_tags', 'segment_memberships', 'fit_criteria', 'notes',
                                   'note_versions', 'task_items'] LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I BEFORE DELETE ON crm.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION crm_private.tg_refuse_delete()', 'tg_' || v_table || '__refuse_delete', v_table);
        EXECUTE format('CREATE OR REPLACE TRIGGER %I BEFORE TRUNCATE ON crm.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION crm_private.tg_refuse_delete()', 'tg_' || v_table || '__refuse_truncate', v_table);
    END LOOP;
END
$$;
