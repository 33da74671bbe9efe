"""docs/api.md, the SQL API reference, is generated from the functions' comments and up to date."""

from __future__ import annotations

from pathlib import Path

from crm360.apidoc import BEGIN, END, generate_api_reference, readme_section, replace_section

ROOT = Path(__file__).resolve().parent.parent


def test_readme_api_section_is_current(db):
    generated = generate_api_reference(db)
    readme = (ROOT / "docs" / "api.md").read_text()
    assert readme_section(readme) == generated, (
        "docs/api.md is stale: run `python -m crm360.apidoc --dsn <migrated db> --write docs/api.md`")


def test_every_crm_function_is_documented_and_pinned(conn):
    undocumented = conn.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_private'::regnamespace)
           AND (obj_description(p.oid, 'pg_proc') IS NULL
                OR NOT (coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
                        OR (p.prosqlbody IS NOT NULL AND NOT p.prosecdef)))""").fetchall()
    assert undocumented == []
    text = generate_api_reference(conn.info.dsn)
    for name in ("generate_crm_code", "create_opportunity", "advance_deal_stage", "log_crm_activity",
                 "refresh_crm_views", "create_pipeline", "end_edge", "log_email"):
        assert f"### `crm.{name}`" in text
    n_crm = conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'crm'::regnamespace").fetchone()[0]
    assert text.count("\n### `crm.") == n_crm
    assert "(undocumented)" not in text


def test_replace_section_round_trip():
    doc = f"# T\n\nintro\n\n{BEGIN}\nold\n{END}\n\nfooter\n"
    new = replace_section(doc, "new text\n")
    assert readme_section(new) == "new text\n"
    assert new.startswith("# T\n\nintro\n\n") and new.endswith("\n\nfooter\n")
    assert readme_section(replace_section("# only a title\n", "x\n")) == "x\n"
