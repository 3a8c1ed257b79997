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
from psycopg.types.json import Jsonb
from simulated_warehouse import (
    assert_k_anonymous,
    bi_contents,
    built_rows,
    dbt,
    dbt_result,
    land_night,
    rows_by_key,
)

from expectations.thresholds import DEFAULT
from ingestion.loader import apply_raw_schema

NIGHTS = (date(2026, 11, 24), date(2026, 11, 25))
NO_LOOKBACK = ("--vars", "{incremental_lookback_hours: 0}")
INCREMENTAL_MODELS = (
    "intermediate.int_linkedin__post_metrics_nightly",
    "intermediate.int_x__tweet_metrics_nightly",
    "marts.fct_post_engagement_daily",
    "marts.fct_shares",
    "marts.fct_share_motivation_attribution",
)


def _build_times(url: str) -> dict[str, int]:
    """Incremental model → how many distinct builds its rows come from."""
    with psycopg.connect(url) as conn:
        return {
            model: conn.execute(f"select count(distinct built_at) from {model}").fetchone()[0]
            for model in INCREMENTAL_MODELS
        }


def _incremental_contents(url: str) -> dict:
    return {
        "bi": bi_contents(url),
        "build_times": _build_times(url),
        "shares": built_rows(url, "marts.fct_shares", ("share_id",)),
        "attribution": built_rows(url, "marts.fct_share_motivation_attribution", ("share_id", "motivation")),
        "x_metrics": built_rows(url, "intermediate.int_x__tweet_metrics_nightly", ("tweet_id", "logical_date")),
        "month_shares": built_rows(url, "marts.mart_month_team_network_shares", ("month", "team", "network")),
        "month_attribution": built_rows(
            url, "marts.mart_month_network_attribution", ("month", "network", "motivation")
        ),
        "month_team_attribution": built_rows(url, "marts.mart_month_team_attribution", ("month", "team", "motivation")),
        "month_consent": built_rows(url, "marts.mart_month_network_consent", ("month", "network")),
        "month_team_sharing": built_rows(url, "marts.mart_team_month_sharing", ("month", "team")),
        "month_content_reach": built_rows(
            url, "marts.mart_team_month_content_reach", ("month", "team", "content_id", "network")
        ),
        "content_sharers": built_rows(url, "marts.mart_content_sharers", ("content_id", "employee_id")),
        "content_descriptions": built_rows(url, "intermediate.int_advocacy__content_descriptions", ("content_id",)),
        "content": rows_by_key(url, "marts.dim_content", ("content_id",)),
    }


@pytest.fixture(scope="module")
def builds(module_db, tmp_path_factory) -> dict:
    drop_dir, work_dir = tmp_path_factory.mktemp("drop"), tmp_path_factory.mktemp("dbt")
    for night in NIGHTS:
        land_night(module_db, drop_dir, night)
        dbt(module_db, work_dir, "build", *NO_LOOKBACK)
    incremental = _incremental_contents(module_db)
    dbt(module_db, work_dir, "build", "--full-refresh", *NO_LOOKBACK)
    full_refresh = _incremental_contents(module_db)
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


def test_the_second_night_split_again_only_the_shares_it_could_change(builds):
    """The shares fct_shares rebuilt and the shares of the sharers the second wave gave a new profile: rows like a
    full rebuild's, fewer shares than all."""
    incremental, full_refresh = builds["incremental"]["attribution"], builds["full_refresh"]["attribution"]
    assert incremental["rows"] == full_refresh["rows"]
    assert 0 < incremental["rebuilt"] < len(incremental["rows"]) == full_refresh["rebuilt"]


def test_the_month_marts_hold_what_a_full_rebuild_gives(builds):
    """The second night touches both months of the simulated window (new readings of October's posts, a survey wave
    re-splitting October's shares), so both are rebuilt here; test_dbt_corrected_shares checks that a
    correction rebuilds only its month and that a build with nothing new rebuilds none."""
    for table in (
        "month_shares",
        "month_attribution",
        "month_team_attribution",
        "month_consent",
        "month_team_sharing",
        "month_content_reach",
    ):
        incremental, full_refresh = builds["incremental"][table], builds["full_refresh"][table]
        assert incremental["rows"] == full_refresh["rows"], table
        assert len({key[0] for key in incremental["rows"]}) == 2, table


def test_the_content_sharers_rebuilt_only_the_pairs_whose_shares_or_splits_changed(builds):
    incremental, full_refresh = builds["incremental"]["content_sharers"], builds["full_refresh"]["content_sharers"]
    assert incremental["rows"] == full_refresh["rows"]
    assert 0 < incremental["rebuilt"] < len(incremental["rows"]) == full_refresh["rebuilt"]


def test_the_content_pieces_are_described_and_counted_as_a_full_rebuild_gives(builds):
    """The descriptions compared only the second night's shares with each piece's describing share; dim_content
    pooled the content × sharer rows: both as a full rebuild that reads every share."""
    incremental, full_refresh = builds["incremental"], builds["full_refresh"]
    descriptions = incremental["content_descriptions"]
    assert descriptions["rows"] == full_refresh["content_descriptions"]["rows"]
    assert 0 < descriptions["rebuilt"] < len(descriptions["rows"])
    assert incremental["content"] == full_refresh["content"]
    assert {row["content_type"] for row in incremental["content"].values()} - {"unknown"}


def test_the_second_night_read_only_its_own_x_readings(builds):
    incremental, full_refresh = builds["incremental"]["x_metrics"], builds["full_refresh"]["x_metrics"]
    assert incremental["rows"] == full_refresh["rows"]
    second_night = {key for key in incremental["rows"] if key[1] == NIGHTS[1]}
    # the second build wrote the second night's readings only: not all X history again
    assert incremental["rebuilt"] == len(second_night) > 0
    assert full_refresh["rebuilt"] == len(full_refresh["rows"]) > len(second_night)


def _land_x_reading(url: str, night: date, metrics: dict) -> None:
    payload = {"id": "1", "created_at": "2026-10-01T09:00:00Z", **metrics}
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into raw.x__tweet_metrics (tweet_id, payload, _load_id, _extracted_at, _logical_date, _request)"
            " values ('1', %s, gen_random_uuid(), now(), %s, 'test')",
            (Jsonb(payload), night),
        )


def test_an_incremental_x_build_carries_link_clicks_from_the_last_built_night(fresh_db, tmp_path):
    """The post turns 30 days old between two builds: the second night has public metrics only, and its link clicks
    come from the row the first build made (the second build does not read the first night's reading again)."""
    public = {
        "like_count": 20,
        "reply_count": 4,
        "retweet_count": 3,
        "quote_count": 1,
        "bookmark_count": 2,
        "impression_count": 900,
    }
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        apply_raw_schema(conn)
    select = ("--select", "stg_x__tweet_metrics", "int_x__tweet_metrics_nightly", *NO_LOOKBACK)
    _land_x_reading(
        fresh_db, date(2026, 10, 30), {"public_metrics": public, "non_public_metrics": {"url_link_clicks": 12}}
    )
    dbt(fresh_db, tmp_path, "run", *select)
    _land_x_reading(fresh_db, date(2026, 10, 31), {"public_metrics": {**public, "like_count": 25}})
    dbt(fresh_db, tmp_path, "run", *select)
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(
            "select logical_date, likes, url_link_clicks, count(*) over (partition by built_at)"
            " from intermediate.int_x__tweet_metrics_nightly order by logical_date"
        ).fetchall()
    assert rows == [(date(2026, 10, 30), 20, 12, 1), (date(2026, 10, 31), 25, 12, 1)]


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


def test_a_build_that_recomputes_every_share_rewrites_none_that_come_out_as_built(builds, tmp_path):
    """A lookback reaching back past every landing makes every share one landed since the last build: all are
    recomputed, each comes out as built, and none is written (every share keeps its build time)."""
    url = builds["url"]

    def build_times() -> dict:
        with psycopg.connect(url) as conn:
            return dict(conn.execute("select share_id, built_at from marts.fct_shares").fetchall())

    before = build_times()
    every_landing = ("--vars", "{incremental_lookback_hours: 100000}")
    dbt(url, tmp_path, "build", "--select", "fct_shares", "--exclude-resource-type", "unit_test", *every_landing)
    assert build_times() == before


def test_row_tests_read_the_rows_built_since_the_last_fully_tested_build(builds, tmp_path):
    """The full rebuild ran every data test of the incremental tables and passed: each has its record, through its
    newest row. Then two shares get negative impressions by hand, one stamped as rebuilt since: `dbt test` fails on
    that one alone (the row-local test reads the rows built since the record; a hand edit that keeps its
    stamp is not read)."""
    url = builds["url"]
    with psycopg.connect(url) as conn:
        recorded = dict(conn.execute("select relation, tested_through from dbt_state.tested_builds").fetchall())
        newest = {
            table: conn.execute(f"select max(built_at) from {table}").fetchone()[0]
            for table in (*INCREMENTAL_MODELS, "marts.mart_month_team_network_shares")
        }
        assert {table: recorded.get(table) for table in newest} == newest
        stamped, kept = (row[0] for row in conn.execute("select share_id from marts.fct_shares order by 1 limit 2"))
        conn.execute("update marts.fct_shares set impressions = -1, built_at = now() where share_id = %s", (stamped,))
        conn.execute("update marts.fct_shares set impressions = -1 where share_id = %s", (kept,))
    try:
        select = ("--select", "fct_shares", "--exclude-resource-type", "unit_test")
        result = dbt_result(url, tmp_path, "test", *select)
        assert result.returncode == 1, result.stdout[-3000:]
        failures = [line for line in result.stdout.splitlines() if "FAIL" in line and "expression_is_true" in line]
        assert len(failures) == 1 and "Got 1 result" in result.stdout, result.stdout[-3000:]
    finally:
        dbt(url, tmp_path, "build", "--select", "fct_shares", "--full-refresh", "--exclude-resource-type", "unit_test")


def test_the_daily_engagement_relationships_test_reads_the_rows_built_since(builds, tmp_path):
    """fct_post_engagement_daily's relationships test to fct_shares says why a row that passed keeps passing (a
    share leaves fct_shares only withdrawn, and the table deletes that share's days in the same build), so it reads
    the rows built since the last fully tested build: two days get a share fct_shares lacks by hand, one stamped as
    rebuilt since; `dbt test` fails on that one alone."""
    url = builds["url"]
    with psycopg.connect(url) as conn:
        stamped, kept = conn.execute(
            "select post_urn, activity_date from marts.fct_post_engagement_daily order by 1, 2 limit 2"
        ).fetchall()
        edit = "update marts.fct_post_engagement_daily set share_id = 'no-such-share'{}"
        conn.execute(edit.format(", built_at = now() where (post_urn, activity_date) = (%s, %s)"), stamped)
        conn.execute(edit.format(" where (post_urn, activity_date) = (%s, %s)"), kept)
    select = ("--select", "fct_post_engagement_daily", "--exclude-resource-type", "unit_test")
    try:
        result = dbt_result(url, tmp_path, "test", *select)
        assert result.returncode == 1, result.stdout[-3000:]
        failures = [line for line in result.stdout.splitlines() if "FAIL" in line and "relationships" in line]
        assert len(failures) == 1 and "Got 1 result" in result.stdout, result.stdout[-3000:]
    finally:
        dbt(url, tmp_path, "build", *select, "--full-refresh")


def test_a_new_pseudonym_salt_fails_the_key_test_though_the_relationships_test_reads_the_rows_built_since(
    builds, tmp_path
):
    """fct_shares' relationships test to dim_employee reads the rows built since (dim_employee holds every sharer,
    keyed under the current salt). A new salt changes every key and leaves the built rows with the old ones:
    keyed_with_current_salt, one row per build, fails on each build — until a full refresh."""
    url = builds["url"]
    database = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url) as conn:
        # one share as if an earlier build had written it: the test reads one row of each build
        conn.execute(
            "update marts.fct_shares set built_at = built_at - interval '1 day'"
            " where share_id = (select min(share_id) from marts.fct_shares)"
        )
        (build_count,) = conn.execute("select count(distinct built_at) from marts.fct_shares").fetchone()
    assert build_count >= 2
    select = ("--select", "fct_shares", "--exclude-resource-type", "unit_test")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"alter database \"{database}\" set sharewhy.pseudonym_salt = 'rotated'")
    try:
        result = dbt_result(url, tmp_path, "test", *select)
        failures = [line for line in result.stdout.splitlines() if " FAIL " in line]
        assert result.returncode == 1, result.stdout[-3000:]
        assert len(failures) == 1 and "keyed_with_current_salt" in failures[0], result.stdout[-3000:]
        assert f"FAIL {build_count} keyed_with_current_salt" in failures[0], failures
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'alter database "{database}" reset sharewhy.pseudonym_salt')
