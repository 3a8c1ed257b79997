"""A sharer's survey response re-splits some of their shares; only the month marts that read the split rebuild.

A night is landed from the simulator with one Typeform respondent's responses held back, and built. Then those
responses land (as a later night's would) and the share marts build again, incrementally: the respondent's profiles
changed, so the attribution splits every share of theirs again but writes only those whose rows came out changed
(a share before the response's lookback stays `unattributed`); the marts that read the split
(`mart_month_network_attribution`, `mart_month_team_attribution`, `mart_team_month_sharing`) rebuild the months of
the shares written, `mart_content_sharers` their content × sharer pairs; no share changed, so `fct_shares` writes no
row and the marts that read only the shares (`mart_month_team_network_shares`, `mart_month_network_consent`,
`mart_team_month_content_reach`) rebuild no month. Each table then equals a full rebuild's. The incremental lookback is
0, so the build really recomputes only what changed.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from simulated_warehouse import built_rows, dbt, land_night, month_builds, rebuilt_and_kept, written_by_last_build

NIGHT = date(2026, 11, 24)
NO_LOOKBACK = ("--vars", "{incremental_lookback_hours: 0}")
SPLIT_MARTS = {
    "marts.mart_month_network_attribution": ("month", "network", "motivation"),
    "marts.mart_month_team_attribution": ("month", "team", "motivation"),
    "marts.mart_team_month_sharing": ("month", "team"),
}
SHARE_ONLY_MARTS = {
    "marts.mart_month_team_network_shares": ("month", "team", "network"),
    "marts.mart_month_network_consent": ("month", "network"),
    "marts.mart_team_month_content_reach": ("month", "team", "content_id", "network"),
}
MONTH_MARTS = (*SPLIT_MARTS, *SHARE_ONLY_MARTS)
CONTENT_SHARERS = "marts.mart_content_sharers"
TABLES = {
    "marts.fct_shares": ("share_id",),
    "marts.fct_share_motivation_attribution": ("share_id", "motivation"),
    **SPLIT_MARTS,
    **SHARE_ONLY_MARTS,
    CONTENT_SHARERS: ("content_id", "employee_id"),
}
SELECT = ("--select", " ".join(f"+{table.split('.')[1]}" for table in TABLES))


def _hold_back_responses(url: str) -> tuple[str, int]:
    """Move every Typeform response of one respondent who shared (the one with the most shares) out of raw into a
    side table; returns the respondent and how many responses were held back."""
    with psycopg.connect(url, autocommit=True) as conn:
        respondent, shares = conn.execute(
            """
            select responses.payload -> 'hidden' ->> 'employee_id', count(distinct shares.share_id)
            from raw.typeform__responses as responses
            join raw.advocacy__shares as shares
                on shares.payload ->> 'employee_id' = responses.payload -> 'hidden' ->> 'employee_id'
            group by 1
            order by 2 desc, 1
            limit 1
            """
        ).fetchone()
        assert shares > 0
        conn.execute(
            "create table raw.held_back_responses as select * from raw.typeform__responses"
            " where payload -> 'hidden' ->> 'employee_id' = %s",
            (respondent,),
        )
        held = conn.execute(
            "delete from raw.typeform__responses where payload -> 'hidden' ->> 'employee_id' = %s", (respondent,)
        ).rowcount
    return respondent, held


def _land_held_back_responses(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update raw.held_back_responses set _extracted_at = now()")
        conn.execute("insert into raw.typeform__responses select * from raw.held_back_responses")
        conn.execute("drop table raw.held_back_responses")


def _share_months(url: str) -> dict[str, date]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select share_id, share_month from marts.fct_shares").fetchall())


def _share_pairs(url: str) -> dict[str, tuple[str, str]]:
    """share → its content × sharer pair."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("select share_id, content_id, employee_id from marts.fct_shares").fetchall()
    return {share: (content, employee) for share, content, employee in rows}


def _respondents_shares(url: str, respondent: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select share_id from marts.fct_shares where employee_id = %s", (respondent,)).fetchall()
    return {share for (share,) in rows}


@pytest.fixture(scope="module")
def builds(module_db, tmp_path_factory) -> dict:
    drop_dir, work_dir = tmp_path_factory.mktemp("drop"), tmp_path_factory.mktemp("dbt")
    land_night(module_db, drop_dir, NIGHT)
    respondent, held = _hold_back_responses(module_db)
    dbt(module_db, work_dir, "build", *SELECT, "--exclude-resource-type", "test", "unit_test", *NO_LOOKBACK)
    before = {table: built_rows(module_db, table, key)["rows"] for table, key in TABLES.items()}
    month_builds_before = month_builds(module_db, MONTH_MARTS)
    shares_built_before = written_by_last_build(module_db, "marts.fct_shares", "built_at")
    _land_held_back_responses(module_db)
    dbt(module_db, work_dir, "run", *SELECT, *NO_LOOKBACK)
    incremental = {table: built_rows(module_db, table, key)["rows"] for table, key in TABLES.items()}
    month_builds_after = month_builds(module_db, MONTH_MARTS)
    split_again = written_by_last_build(module_db, "marts.fct_share_motivation_attribution", "share_id")
    shares_built_after = written_by_last_build(module_db, "marts.fct_shares", "built_at")
    pairs_written = written_by_last_build(module_db, CONTENT_SHARERS, "content_id", "employee_id")
    dbt(module_db, work_dir, "run", *SELECT, "--full-refresh", *NO_LOOKBACK)
    return {
        "respondent": respondent,
        "held": held,
        "respondents_shares": _respondents_shares(module_db, respondent),
        "share_months": _share_months(module_db),
        "share_pairs": _share_pairs(module_db),
        "pairs_written": pairs_written,
        "before": before,
        "incremental": incremental,
        "full_refresh": {table: built_rows(module_db, table, key)["rows"] for table, key in TABLES.items()},
        "month_builds": (month_builds_before, month_builds_after),
        "split_again": split_again,
        "shares_built": (shares_built_before, shares_built_after),
    }


def test_the_response_changed_the_respondents_split(builds):
    respondent = builds["respondent"]
    shares = builds["respondents_shares"]
    assert builds["held"] > 0
    key = "marts.fct_share_motivation_attribution"
    before = {k: row for k, row in builds["before"][key].items() if k[0] in shares}
    after = {k: row for k, row in builds["incremental"][key].items() if k[0] in shares}
    assert before != after, respondent


def _changed_shares(builds) -> set[str]:
    """The shares whose attribution rows differ between the first build and the incremental one."""
    key = "marts.fct_share_motivation_attribution"
    before, after = builds["before"][key], builds["incremental"][key]
    return {share for share, _ in before.keys() ^ after.keys()} | {
        share for (share, motivation), row in after.items() if before.get((share, motivation)) != row
    }


def test_the_attribution_wrote_the_respondents_changed_shares_only(builds):
    shares = builds["respondents_shares"]
    changed = _changed_shares(builds)
    assert changed and changed < shares  # some of their shares split as before
    assert builds["split_again"] == changed


def test_no_share_was_rewritten(builds):
    before, after = builds["shares_built"]
    assert before == after


def test_the_split_marts_rebuilt_the_months_of_the_shares_written(builds):
    months = {builds["share_months"][share] for share in builds["split_again"]}
    before, after = builds["month_builds"]
    for table in SPLIT_MARTS:
        assert before[table] != after[table], table
        rebuilt, _ = rebuilt_and_kept(after[table])
        assert rebuilt == months, table


def test_the_share_only_marts_rebuilt_no_month(builds):
    before, after = builds["month_builds"]
    for table in SHARE_ONLY_MARTS:
        assert after[table], table
        assert before[table] == after[table], table


def test_the_content_sharers_rebuilt_the_pairs_of_the_shares_written(builds):
    """No share changed, so only the split moves a pair: exactly the re-split shares' pairs are rebuilt."""
    assert builds["pairs_written"] == {builds["share_pairs"][share] for share in builds["split_again"]}


def test_every_table_holds_what_a_full_rebuild_gives(builds):
    for table in TABLES:
        assert builds["incremental"][table] == builds["full_refresh"][table], table
