"""Smoke test of the benchmarks (bench/): they run, on a toy size, in a few seconds. No figure is checked — the
benchmarks themselves are `make bench` / `make bench-full`, never part of `make test`."""

from __future__ import annotations

import math
from dataclasses import replace

from bench import common, loader, x_metrics
from bench.__main__ import SECTIONS
from bench.tenant import Tenant, TenantLinkedIn, TenantSpec
from bench.tenant_x import TenantX, x_posts_on
from simulator.company import share_day_of_tweet


def test_the_tenant_is_deterministic_and_its_history_scales_by_days():
    spec = TenantSpec(employees=60, history_shares=600, history_days=60, night_shares=50)
    one, again, ten = Tenant(spec), Tenant(spec), Tenant(spec.with_history(10))
    night = spec.night(0)
    assert list(one.shares_on(night).records()) == list(again.shares_on(night).records())
    assert len(one.shares_on(night)) == 50
    # 10× history: the same recent days (same daily rate), ten times as many of them
    recent = night - (night - spec.history_start) / 2
    assert one.shares_on(recent).post_urns == ten.shares_on(recent).post_urns
    assert ten.spec.history_start < one.spec.history_start
    # the simulator's LinkedIn handler finds the night's posts through the tenant
    urn = one.shares_on(night).post_urns[0]
    linkedin = TenantLinkedIn(one, night)
    post = linkedin.find_post(urn)
    assert post is not None and linkedin.counters(post).impressions <= post.totals.impressions


def test_the_loader_comparison_runs_on_a_toy_size():
    report = common.Report()
    loader.run(report, rows=300, reps=3, dlt=False)
    figures = {f.what: f for f in report.figures}
    assert "loader ÷ psql \\copy throughput" in figures
    assert figures["loader ÷ psql \\copy throughput"].verdict in ("met", "MISSED")
    assert "| loader |" in report.markdown("### toy")


def test_the_alternating_rounds_alternate_the_order():
    seen = []
    samples = common.alternate(3, ["a", "b"], lambda variant, rep: seen.append(variant) or len(seen))
    assert seen == ["a", "b", "b", "a", "a", "b"]
    assert samples["a"].values == [1, 4, 5]
    assert common.ratios(samples["b"], samples["a"]).values == [2.0, 0.75, 1.2]
    assert replace(TenantSpec(), night_shares=1).night_shares == 1


def test_the_tenant_has_x_posts_the_simulator_finds():
    spec = TenantSpec(employees=60, history_shares=600, history_days=60, night_shares=50)
    night = spec.night(0)
    posts = x_posts_on(Tenant(spec), night)
    assert 0 < len(posts) < 50
    assert posts.tweet_ids == x_posts_on(Tenant(spec.with_history(10)), night).tweet_ids
    assert {share_day_of_tweet(tweet_id) for tweet_id in posts.tweet_ids} == {night}
    x = TenantX(Tenant(spec), night)
    post = x.find_tweet(posts.tweet_ids[0])
    assert post is not None and x.counters(post).impressions <= post.totals.impressions


def test_the_x_section_runs_a_night_on_a_toy_tenant(tmp_path, monkeypatch):
    """One warehouse, one night: history laid, first build, the night's X readings through the X API, the
    incremental build and the full refresh (the section runs this per round and history)."""
    monkeypatch.setenv("SHAREWHY_TOKEN_KEYS", x_metrics._token_keys())
    spec = TenantSpec(employees=60, history_shares=600, history_days=60, night_shares=50)
    with common.scratch_database("xsmoke") as url:
        house = x_metrics.XWarehouse("smoke", url, Tenant(spec), tmp_path)
        history = house.lay_history()
        house.build(full_refresh=True, tests=False)
        assert house.table_rows()[1] == history["raw.x__tweet_metrics"]
        night = house.night(spec.night(0))
    assert night.api_calls == math.ceil(night.posts_due / 100)
    assert night.table_rows == history["raw.x__tweet_metrics"] + night.posts_due
    assert night.posts_due <= night.rows_written < night.table_rows
    assert night.model > 0 and night.full_refresh_model > 0
    assert "x" in SECTIONS


def _index_definitions(url: str, tables: tuple[str, ...]) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return sorted(
            definition
            for (definition,) in conn.execute(
                "select pg_get_indexdef(indexrelid) from pg_index where indrelid = any(%s::regclass[])",
                (list(tables),),
            )
        )


def test_the_history_lands_with_the_raw_tables_indexes_as_the_schema_makes_them(fresh_db, tmp_path):
    """The set-up drops the raw tables' indexes and unique keys for the bulk load (bench.night.indexes_deferred):
    afterwards they are all back, the same, and the history is there."""
    import psycopg

    from bench.night import HISTORY_TABLES, BenchWarehouse
    from ingestion.loader import apply_raw_schema

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        apply_raw_schema(conn)
    as_made = _index_definitions(fresh_db, HISTORY_TABLES)
    spec = TenantSpec(employees=60, history_shares=600, history_days=60, night_shares=50)
    house = BenchWarehouse("1x", fresh_db, Tenant(spec), tmp_path)
    counts = house.lay_history()
    assert _index_definitions(fresh_db, HISTORY_TABLES) == as_made
    assert any("UNIQUE" in definition for definition in as_made)
    assert counts["advocacy__shares"] == sum(Tenant(spec).count_on(day) for day in spec.history_day_list())
    assert counts["linkedin__member_post_analytics"] > 0 and counts["hr__roster"] == 60 * spec.roster_nights
    assert {"history shares COPY", "LinkedIn readings INSERT", "indexes built"} <= house.setup_times.keys()


def test_the_history_marked_audited_covers_every_raw_and_marts_suite(fresh_db, tmp_path):
    """The full profile's stand-in for auditing the history (bench.night.mark_history_audited): a passed row for
    every raw and marts suite, which is where the nights' audits start reading arrivals (raw) and rows built (the
    marts' per-share rules) from."""
    import psycopg

    from bench.night import BenchWarehouse
    from expectations.suites import EXPECTATIONS

    spec = TenantSpec(employees=60, history_shares=600, history_days=60, night_shares=50)
    BenchWarehouse("1x", fresh_db, Tenant(spec), tmp_path).mark_history_audited()
    with psycopg.connect(fresh_db) as conn:
        marked = {suite for (suite,) in conn.execute("select suite from audit.validation_runs where success")}
    assert marked == {relation for relation in EXPECTATIONS if relation.startswith(("raw.", "marts."))}
    assert {"marts.fct_shares", "marts.fct_share_motivation_attribution"} <= marked
