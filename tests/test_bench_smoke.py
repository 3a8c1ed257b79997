"""Smoke test of the benchmarks (bench/): they run, on a toy size, in a few seconds. No figure is checked — the
benchmarks themselves are `make bench` / `make bench-full`, never part of `make test`."""

from __future__ import annotations

from dataclasses import replace

from bench import common, loader
from bench.tenant import Tenant, TenantLinkedIn, TenantSpec


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
