"""Review s23: rc_refresh_stats sizes tables by pg_class.reltuples, which an ANALYZE inside a
transaction that later rolls back leaves in place (in-place, non-transactional update), while the
statistics themselves (pg_statistic) roll back. Held: the aborted rows count in
n_mod_since_analyze, so the next load is analysed all the same."""


def _land(conn, n, start):
    conn.execute("INSERT INTO crm_raw.records (source, object, external_id, payload) "
                 "SELECT 'salesforce', 'Account', 'st' || i, jsonb_build_object('i', i) "
                 "FROM generate_series(%s::int, %s::int) AS i", (start, start + n - 1))


def test_rolled_back_load_inflates_reltuples_and_suppresses_analyze(conn):
    refresh = lambda: conn.execute("SELECT crm_private.rc_refresh_stats()").fetchone()[0]  # noqa: E731
    with conn.transaction(force_rollback=True):          # a load whose reconcile failed
        _land(conn, 20000, 1)
        assert refresh() == ["crm_raw.records"]
    rt = conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'crm_raw.records'::regclass").fetchone()[0]
    stats = conn.execute("SELECT count(*) FROM pg_stats WHERE schemaname = 'crm_raw' AND tablename = 'records'").fetchone()[0]
    print("after rollback: reltuples", rt, "pg_stats rows", stats)
    with conn.transaction(force_rollback=True):          # the real load: 8,000 rows, never analysed
        _land(conn, 8000, 100001)
        done = refresh()
        print("real load of 8000 rows analysed:", done)
        assert done == ["crm_raw.records"], "8,000 new rows on a table whose statistics describe none were not analysed"
