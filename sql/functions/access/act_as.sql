-- crm.act_as(p_user_id) — a pooled service acts for a user for the rest of THIS transaction.
-- Guarantees:
-- * only a role in crm_service that does not bypass row-level security and is not an admin
--   (a superuser or an admin role must SET LOCAL ROLE crm_service first) — 42501 otherwise; the user must be a live user node
--   (P0002);
-- * the identity is transaction-local (set_config(..., true)) and carries a proof bound to
--   this transaction (crm_private.act_as_mac): copying the settings to session level
--   achieves nothing in the next transaction. Works in read-only transactions and on a hot
--   standby;
-- * while acting, an admin role is that user, not an admin: every view and function shows
--   exactly the user's rows;
-- * a pooled connection that still holds a WITH HOLD cursor or any temporary object (table,
--   view, sequence, type — composite too —, domain, function, operator, collation, text search
--   configuration, dictionary, conversion, operator class) from an earlier transaction — which
--   could carry another user's rows, or capture this user's (a temporary domain named uuid
--   shadows the built-in type in the client's own queries) — is refused with CR034; the
--   pooler must reset connections between clients (README).
CREATE OR REPLACE FUNCTION crm.act_as(p_user_id uuid)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_token   text;
    v_cursors text;
    v_temp    text;
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'crm_service', 'USAGE') THEN
        RAISE EXCEPTION 'only a crm_service role may act for another user'
            USING ERRCODE = '42501',
                  HINT = 'map your login to a CRM user (crm.map_login) instead, or GRANT crm_service to the pooled service role';
    END IF;
    -- an admin role acts only as crm_service: admins read through policies of their own (every
    -- row), which would still apply to an admin role acting for a user
    IF pg_catalog.pg_has_role(current_user, 'crm_admin', 'USAGE') THEN
        RAISE EXCEPTION 'an admin role acts for a user only as crm_service'
            USING ERRCODE = '42501',
                  HINT = 'SET LOCAL ROLE crm_service first, then SELECT crm.act_as(...) (what crm360 account --as does)';
    END IF;
    SELECT string_agg(c.name, ', ') INTO v_cursors FROM pg_catalog.pg_cursors c WHERE c.is_holdable;
    -- anything in this session's temporary schema: tables, views, sequences, and also types,
    -- domains, functions and operators (a temporary domain named uuid or text shadows the
    -- built-in type in the next client's own queries, whose search_path has pg_temp first)
    SELECT string_agg(x.what, ', ') INTO v_temp
      FROM (SELECT 'relation ' || c.relname AS what FROM pg_catalog.pg_class c
             WHERE c.relnamespace = pg_catalog.pg_my_temp_schema()
               AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')      -- 'c': a composite type
            UNION ALL
            SELECT 'type ' || t.typname FROM pg_catalog.pg_type t
             WHERE t.typnamespace = pg_catalog.pg_my_temp_schema() AND t.typrelid = 0
               AND t.typtype IN ('b', 'd', 'e', 'r', 'm', 'c')
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type a WHERE a.typarray = t.oid)
            UNION ALL
            SELECT 'function ' || p.proname FROM pg_catalog.pg_proc p WHERE p.pronamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'operator ' || o.oprname FROM pg_catalog.pg_operator o WHERE o.oprnamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            -- and every other kind of object a schema can hold (review of issue 11, N4: a
            -- temporary collation or text search configuration changes the next client's
            -- queries too)
            SELECT 'collation ' || c.collname FROM pg_catalog.pg_collation c WHERE c.collnamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'text search configuration ' || c.cfgname FROM pg_catalog.pg_ts_config c WHERE c.cfgnamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'text search dictionary ' || d.dictname FROM pg_catalog.pg_ts_dict d WHERE d.dictnamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'text search parser ' || x.prsname FROM pg_catalog.pg_ts_parser x WHERE x.prsnamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'text search template ' || x.tmplname FROM pg_catalog.pg_ts_template x WHERE x.tmplnamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'conversion ' || c.conname FROM pg_catalog.pg_conversion c WHERE c.connamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'operator class ' || c.opcname FROM pg_catalog.pg_opclass c WHERE c.opcnamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'operator family ' || f.opfname FROM pg_catalog.pg_opfamily f WHERE f.opfnamespace = pg_catalog.pg_my_temp_schema()
            UNION ALL
            SELECT 'statistics ' || x.stxname FROM pg_catalog.pg_statistic_ext x WHERE x.stxnamespace = pg_catalog.pg_my_temp_schema()
           ) x
     WHERE pg_catalog.pg_my_temp_schema() <> 0;
    IF v_cursors IS NOT NULL OR v_temp IS NOT NULL THEN
        RAISE EXCEPTION 'this connection still holds state of an earlier transaction'
            USING ERRCODE = 'CR034',
                  DETAIL = concat_ws('; ', 'WITH HOLD cursors: ' || v_cursors, 'temporary objects: ' || v_temp),
                  HINT = 'call crm.act_as first in every transaction, on a connection the pooler resets between clients (pgbouncer: server_reset_query = DISCARD ALL, server_reset_query_always = 1)';
    END IF;
    v_token := crm_private.act_as_token(current_user, p_user_id);
    PERFORM pg_catalog.set_config('crm.act_as_user', p_user_id::text, true);
    PERFORM pg_catalog.set_config('crm.act_as_token', v_token, true);
    -- resolve the identity once for the rest of the transaction (crm_private.caller_identity)
    PERFORM crm_private.caller_identity(current_user, true);
    RETURN p_user_id;
END;
$$;

COMMENT ON FUNCTION crm.act_as(uuid) IS
$c$For pooled services (members of crm_service): act as the given CRM user until the end of the current transaction — an admin acting for a user (SET LOCAL ROLE crm_service first) sees exactly that user's rows. Call it first in every transaction; works in read-only transactions and on hot standbys. Errors: 42501 caller is not crm_service, is an admin or bypasses row-level security (SET LOCAL ROLE crm_service first), P0002 unknown/archived user, CR034 the connection still holds a WITH HOLD cursor or a temporary object (table, type, domain, function) of an earlier transaction (configure the pooler to reset connections). Example: BEGIN; SELECT crm.act_as('<user uuid>'); SELECT * FROM crm.opportunities_active; COMMIT;$c$;
