"""Incremental models give what a full rebuild gives.

Two simulated nights (2026-11-24, then 2026-11-25: new shares, new LinkedIn and X readings, new Bitly clicks, a
second survey wave on all three survey vendors) are built the nightly way — `dbt build` after each night, the
second one incremental — and then rebuilt with `dbt build --full-refresh`: every `bi_build` table, and the
incremental share fact itself, must hold exactly the same rows. The incremental lookback is 0 here, so the second
night really recomputes only what changed (with it, a test run seconds apart would recompute everything and prove
nothing).
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from psycopg.rows import dict_row
from simulated_warehouse import assert_k_anonymous, bi_contents, dbt, land_night

from expectations.thresholds import DEFAULT

NIGHTS = (date(2026, 11, 24), date(2026, 11, 25))
NO_LOOKBACK = ("--vars", "{incremental_lookback_hours: 0}")
INCREMENTAL_MODELS = (
    "intermediate.int_linkedin__post_metrics_nightly", "marts.fct_post_engagement_daily", "marts.fct_shares",
)


def _build_times(url: str) -> dict[str, int]:
    """Incremental model → how many distinct builds its rows come from."""
    with psycopg.connect(url) as conn:
        return {
            model: conn.execute(f"select count(distinct built_at) from {model}").fetchone()[0]
            for model in INCREMENTAL_MODELS
        }


def _share_facts(url: str) -> dict:
    """fct_shares without its build time: share_id → the rest of the row; and how many rows the last build made."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute("select * from marts.fct_shares").fetchall()
        rebuilt = conn.execute(
            "select count(*) from marts.fct_shares where built_at = (select max(built_at) from marts.fct_shares)"
        ).fetchone()["count"]
    facts = {row["share_id"]: {column: value for column, value in row.items() if column != "built_at"} for row in rows}
    return {"rows": facts, "rebuilt": rebuilt}


@pytest.fixture(scope="module")
def builds(module_db, tmp_path_factory) -> dict:
    drop_dir, work_dir = tmp_path_factory.mktemp("drop"), tmp_path_factory.mktemp("dbt")
    for night in NIGHTS:
        land_night(module_db, drop_dir, night)
        dbt(module_db, work_dir, "build", *NO_LOOKBACK)
    incremental = {
        "bi": bi_contents(module_db), "build_times": _build_times(module_db), "shares": _share_facts(module_db),
    }
    dbt(module_db, work_dir, "build", "--full-refresh", *NO_LOOKBACK)
    full_refresh = {
        "bi": bi_contents(module_db), "build_times": _build_times(module_db), "shares": _share_facts(module_db),
    }
    return {"url": module_db, "incremental": incremental, "full_refresh": full_refresh}


def test_the_second_night_was_built_incrementally(builds):
    # the first night's rows kept their build; a full refresh rebuilds every row at once
    assert builds["incremental"]["build_times"] == dict.fromkeys(INCREMENTAL_MODELS, 2)
    assert set(builds["full_refresh"]["build_times"].values()) == {1}


def test_the_second_night_recomputed_only_the_shares_whose_inputs_changed(builds):
    incremental, full_refresh = builds["incremental"]["shares"], builds["full_refresh"]["shares"]
    assert incremental["rows"] == full_refresh["rows"]
    # the second night: its new shares, the young posts read again, the links with new clicks — not the older rest
    assert 0 < incremental["rebuilt"] < len(incremental["rows"]) == full_refresh["rebuilt"]


def test_full_refresh_gives_the_same_bi_contents_as_the_nightly_incremental_builds(builds):
    incremental, full_refresh = builds["incremental"]["bi"], builds["full_refresh"]["bi"]
    assert set(incremental) == set(full_refresh)
    assert all(incremental[table] for table in incremental), "every bi table has rows"
    for table in incremental:
        assert incremental[table] == full_refresh[table], table


def test_three_waves_stay_k_anonymous(builds):
    assert assert_k_anonymous(builds["url"], DEFAULT.k_anonymity) > 0
    with psycopg.connect(builds["url"]) as conn:
        waves = conn.execute("select count(distinct wave) from bi_build.team_morale").fetchone()[0]
    assert waves == 3  # one on each survey vendor (simulator.company.Company.survey_waves)
