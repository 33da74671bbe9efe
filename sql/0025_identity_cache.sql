-- 0025 The caller's identity, resolved once per transaction (issue 16, item 1; docs/security.md
-- "Identity cache"):
-- * crm_private.identity — what crm_private.caller_identity returns: the CRM user a role acts
--   as, whether through crm.act_as, its principals (user + transitive teams) and its live
--   grants.
-- * crm_private.identity_epoch — a sequence advanced (nextval, not transactional, callers
--   cannot set it) by crm_private.tg_identity_changed whenever something identity depends on
--   changes: a login mapping, a member_of edge, a user or team node, an access grant. Every
--   cached identity is bound to the epoch it was computed under, so a change invalidates
--   every cache — in the same transaction at once, in other sessions at their next priming.
-- Safe to run twice.
SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF to_regtype('crm_private.identity') IS NULL THEN
        CREATE TYPE crm_private.identity AS (
            actor      uuid,
            acting     boolean,
            principals uuid[],
            grants     jsonb
        );
    END IF;
END
$$;
COMMENT ON TYPE crm_private.identity IS
    'The identity a role acts as (crm_private.caller_identity): actor (CRM user or NULL), acting (through crm.act_as), principals (user + transitive teams), grants (live access grants of the principals).';

CREATE SEQUENCE IF NOT EXISTS crm_private.identity_epoch;
COMMENT ON SEQUENCE crm_private.identity_epoch IS
    'Advanced whenever logins, member_of edges, user/team nodes or access grants change (crm_private.tg_identity_changed); cached identities are bound to its value.';
