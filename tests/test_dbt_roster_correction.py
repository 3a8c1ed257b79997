"""A roster correction reaching back moves a sharer's shares to their corrected team on the next incremental build.

A night is landed from the simulator, with every roster of its window, and built. Then HR corrects one sharer's team on every roster from a night in
the middle of their shares on (the raw roster rows rewritten, as landed again): the next incremental build of
`fct_shares` must give the shares made from that night on the corrected team — found through the sharer's team spans
changing (int_hr__team_span_digests), not by joining every built share to the roster history — write no other
share, and give what a full rebuild gives. The incremental lookback is 0, so the build really recomputes only what
changed.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from simulated_warehouse import built_rows, dbt, land_night, written_by_last_build

from ingestion.run import land_hr_roster

NIGHT = date(2026, 11, 24)
NO_LOOKBACK = ("--vars", "{incremental_lookback_hours: 0}")
SELECT = ("--select", "+fct_shares")
CORRECTED_TEAM = "corrected-team"


def _sharer_and_night(url: str) -> tuple[str, date]:
    """The sharer with the most shares, and a roster night with shares of theirs before and from it on."""
    with psycopg.connect(url) as conn:
        (sharer,) = conn.execute(
            "select employee_id from marts.fct_shares group by 1 order by count(*) desc, 1 limit 1"
        ).fetchone()
        (night,) = conn.execute(
            """
            select rosters.night
            from (select distinct _logical_date as night from raw.hr__roster) as rosters
            where
                exists (select from marts.fct_shares where employee_id = %(sharer)s and shared_at < rosters.night)
                and exists (select from marts.fct_shares where employee_id = %(sharer)s and shared_at >= rosters.night)
            order by 1
            limit 1 offset 1
            """,
            {"sharer": sharer},
        ).fetchone()
    return sharer, night


def _correct_team(url: str, sharer: str, night: date) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "update raw.hr__roster set payload = jsonb_set(payload, '{team}', to_jsonb(%s::text)),"
            " _extracted_at = now() where payload ->> 'employee_id' = %s and _logical_date >= %s",
            (CORRECTED_TEAM, sharer, night),
        ).rowcount


@pytest.fixture(scope="module")
def builds(module_db, tmp_path_factory) -> dict:
    drop_dir, work_dir = tmp_path_factory.mktemp("drop"), tmp_path_factory.mktemp("dbt")
    land_night(module_db, drop_dir, NIGHT, lift_inputs_only=True)
    for path in sorted((drop_dir / "hr").glob("roster_*.csv")):  # every night's roster of the window, not one
        land_hr_roster(module_db, date.fromisoformat(path.stem.removeprefix("roster_")), drop_dir)
    dbt(module_db, work_dir, "build", *SELECT, "--exclude-resource-type", "test", "unit_test", *NO_LOOKBACK)
    before = built_rows(module_db, "marts.fct_shares", ("share_id",))["rows"]
    sharer, night = _sharer_and_night(module_db)
    corrected = _correct_team(module_db, sharer, night)
    dbt(module_db, work_dir, "run", *SELECT, *NO_LOOKBACK)
    incremental = built_rows(module_db, "marts.fct_shares", ("share_id",))["rows"]
    written = written_by_last_build(module_db, "marts.fct_shares", "share_id")
    dbt(module_db, work_dir, "run", *SELECT, "--full-refresh", *NO_LOOKBACK)
    return {
        "sharer": sharer,
        "night": night,
        "corrected": corrected,
        "before": before,
        "incremental": incremental,
        "written": written,
        "full_refresh": built_rows(module_db, "marts.fct_shares", ("share_id",))["rows"],
    }


def _sharers_shares(rows: dict, sharer: str) -> dict:
    return {key[0]: row for key, row in rows.items() if row["employee_id"] == sharer}


def test_the_shares_from_the_corrected_night_on_moved_to_the_corrected_team(builds):
    assert builds["corrected"] > 0
    shares = _sharers_shares(builds["incremental"], builds["sharer"])
    moved = {share for share, row in shares.items() if row["share_date"] >= builds["night"]}
    assert moved and moved < set(shares)
    assert {shares[share]["team"] for share in moved} == {CORRECTED_TEAM}
    assert CORRECTED_TEAM not in {row["team"] for share, row in shares.items() if share not in moved}


def test_the_build_wrote_the_moved_shares_only(builds):
    before = _sharers_shares(builds["before"], builds["sharer"])
    after = _sharers_shares(builds["incremental"], builds["sharer"])
    changed = {share for share in after if after[share] != before[share]}
    assert changed and builds["written"] == changed


def test_the_incremental_build_gives_what_a_full_rebuild_gives(builds):
    assert builds["incremental"] == builds["full_refresh"]
