"""A corrected advocacy export reaches the share marts on the next incremental build.

A night is landed from the simulator and built; then the platform corrects that night's export (one share's mode and
copy flag fixed, one share withdrawn) and withdraws every share of the window's first month (its daily files
re-exported empty). The ingestion lands the corrected files (the previous versions' rows move to
raw._superseded_rows), and the next incremental build of `fct_shares`, the attribution and the month-grain marts must
give what a full rebuild gives: the corrected share as corrected, the withdrawn ones gone, the emptied month gone from
the month marts, nothing doubled. The incremental lookback is 0, so the build really recomputes only what changed.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import psycopg
import pytest
from psycopg.rows import dict_row
from simulated_warehouse import built_rows, dbt, land_night, month_builds, rebuilt_and_kept, rows_by_key

from ingestion.run import land_advocacy_shares

NIGHT = date(2026, 11, 24)
NO_LOOKBACK = ("--vars", "{incremental_lookback_hours: 0}")


def _share_facts(url: str) -> dict[str, dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute("select * from marts.fct_shares").fetchall()
    return {row["share_id"]: {k: v for k, v in row.items() if k != "built_at"} for row in rows}


def _attributed_shares(url: str) -> dict[str, list]:
    """share → its attribution rows (motivation, weight, attributed impressions), sorted."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select share_id, motivation, weight, attributed_impressions from marts.fct_share_motivation_attribution"
            " order by 1, 2"
        ).fetchall()
    parts: dict[str, list] = {}
    for share_id, *part in rows:
        parts.setdefault(share_id, []).append(tuple(part))
    return parts


MONTH_MARTS = {
    "marts.mart_month_team_network_shares": ("month", "team", "network"),
    "marts.mart_month_network_attribution": ("month", "network", "motivation"),
    "marts.mart_month_team_attribution": ("month", "team", "motivation"),
    "marts.mart_month_network_consent": ("month", "network"),
    "marts.mart_team_month_sharing": ("month", "team"),
    "marts.mart_team_month_content_reach": ("month", "team", "content_id", "network"),
}
SHARE_MARTS = (
    "fct_shares fct_share_motivation_attribution mart_content_sharers fct_post_engagement_daily"
    " int_advocacy__content_descriptions dim_content " + " ".join(name.split(".")[1] for name in MONTH_MARTS)
)


def _engagement_days_without_their_share(url: str) -> int:
    """fct_post_engagement_daily's rows whose share is not in fct_shares."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select count(*) from marts.fct_post_engagement_daily as daily"
            " where not exists (select from marts.fct_shares as shares where shares.share_id = daily.share_id)"
        ).fetchone()[0]


def _shares_with_engagement_days(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {share for (share,) in conn.execute("select distinct share_id from marts.fct_post_engagement_daily")}


def _content_sharers(url: str) -> dict[tuple, dict]:
    return built_rows(url, "marts.mart_content_sharers", ("content_id", "employee_id"))["rows"]


def _content(url: str) -> dict[str, dict]:
    """Each content piece's description (its describing share) and dim_content row."""
    descriptions = built_rows(url, "intermediate.int_advocacy__content_descriptions", ("content_id",))["rows"]
    dimension = rows_by_key(url, "marts.dim_content", ("content_id",))
    return {content: {**descriptions.get((content,), {}), **row} for (content,), row in dimension.items()}


def _month_marts(url: str) -> dict[str, dict]:
    """Each month mart's rows by key, without their build time."""
    return {table: built_rows(url, table, key)["rows"] for table, key in MONTH_MARTS.items()}


def _empty_month(drop_dir, month: str) -> int:
    """Re-export every daily file of `month` (YYYY-MM) without its shares; returns how many shares it withdrew."""
    withdrawn = 0
    for path in sorted((drop_dir / "advocacy").glob(f"shares_{month}-*.csv")):
        header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
        withdrawn += len(rows)
        path.write_text(header, encoding="utf-8")
    return withdrawn


def _correct(path, describing: set[str]) -> tuple[str, str, int]:
    """Flip the first manual share's mode and copy flag, withdraw a share that describes its content piece (one of
    `describing`); returns (corrected, withdrawn, rows left in the file)."""
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    corrected = next(row for row in rows if row["share_mode"] == "manual")
    corrected["share_mode"] = "scheduled"
    corrected["copy_edited"] = "false" if corrected["copy_edited"] == "true" else "true"
    withdrawn = next(row for row in rows if row["share_id"] in describing and row is not corrected)
    rows.remove(withdrawn)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return corrected["share_id"], withdrawn["share_id"], len(rows)


@pytest.fixture(scope="module")
def builds(module_db, tmp_path_factory) -> dict:
    drop_dir, work_dir = tmp_path_factory.mktemp("drop"), tmp_path_factory.mktemp("dbt")
    land_night(module_db, drop_dir, NIGHT, lift_inputs_only=True)
    # seeds and models up to the attribution (the data tests of the marts read dimensions not selected here)
    select = ("--select", " ".join(f"+{name}" for name in SHARE_MARTS.split()))
    dbt(module_db, work_dir, "build", *select, "--exclude-resource-type", "test", *NO_LOOKBACK)
    before, attributed_before, months_before, sharers_before = (
        _share_facts(module_db),
        _attributed_shares(module_db),
        _month_marts(module_db),
        _content_sharers(module_db),
    )
    engaged_before, content_before = _shares_with_engagement_days(module_db), _content(module_db)
    describing = {row["share_id"] for row in content_before.values()}
    corrected, withdrawn, rows = _correct(drop_dir / "advocacy" / f"shares_{NIGHT.isoformat()}.csv", describing)
    first_month = min(key[0] for key in months_before["marts.mart_month_team_network_shares"])
    emptied = _empty_month(drop_dir, first_month.strftime("%Y-%m"))
    report = land_advocacy_shares(module_db, NIGHT, drop_dir)
    dbt(module_db, work_dir, "run", "--select", SHARE_MARTS, *NO_LOOKBACK)
    incremental, attributed, months = _share_facts(module_db), _attributed_shares(module_db), _month_marts(module_db)
    sharers, content = _content_sharers(module_db), _content(module_db)
    orphan_engagement_days = _engagement_days_without_their_share(module_db)
    builds_after_correction = month_builds(module_db, MONTH_MARTS)
    dbt(module_db, work_dir, "run", "--select", SHARE_MARTS, *NO_LOOKBACK)  # nothing changed since
    builds_unchanged = month_builds(module_db, MONTH_MARTS)
    dbt(module_db, work_dir, "run", "--select", SHARE_MARTS, "--full-refresh", *NO_LOOKBACK)
    return {
        "months_before": months_before,
        "months": months,
        "months_full_refresh": _month_marts(module_db),
        "engaged_before": engaged_before,
        "orphan_engagement_days": orphan_engagement_days,
        "sharers_before": sharers_before,
        "sharers": sharers,
        "sharers_full_refresh": _content_sharers(module_db),
        "content_before": content_before,
        "content": content,
        "content_full_refresh": _content(module_db),
        "month_builds": (builds_after_correction, builds_unchanged),
        "first_month": first_month,
        "emptied": emptied,
        "before": before,
        "incremental": incremental,
        "full_refresh": _share_facts(module_db),
        "attributed_before": attributed_before,
        "attributed": attributed,
        "attributed_full_refresh": _attributed_shares(module_db),
        "corrected": corrected,
        "withdrawn": withdrawn,
        "rows": rows,
        "report": report,
    }


def test_the_corrected_file_replaced_its_previous_version(builds):
    report = builds["report"]
    assert (report.rows_received, report.rows_inserted, report.rows_quarantined) == (builds["rows"], builds["rows"], 0)


def test_the_incremental_build_carries_the_correction_like_a_full_rebuild(builds):
    before, incremental = builds["before"], builds["incremental"]
    corrected, withdrawn = builds["corrected"], builds["withdrawn"]
    assert before[corrected]["share_mode"] == "manual"
    assert incremental[corrected]["share_mode"] == "scheduled"
    assert incremental[corrected]["copy_edited"] is not before[corrected]["copy_edited"]
    assert withdrawn in before and withdrawn not in incremental
    assert incremental == builds["full_refresh"]


def test_the_withdrawn_share_leaves_the_attribution_too(builds):
    withdrawn = builds["withdrawn"]
    assert withdrawn in builds["attributed_before"] and withdrawn not in builds["attributed"]
    assert builds["attributed"] == builds["attributed_full_refresh"]


def test_the_month_marts_rebuilt_the_corrected_month_and_dropped_the_emptied_one(builds):
    """Only the night's month (its file landed again, corrected) is rebuilt; the month whose shares were all withdrawn
    is gone (the simulated window has no third month to keep) — and each table equals a full rebuild."""
    first_month, night_month = builds["first_month"], NIGHT.replace(day=1)
    assert builds["emptied"] > 0
    for table, before in builds["months_before"].items():
        after = builds["months"][table]
        rebuilt, kept = rebuilt_and_kept(builds["month_builds"][0][table])
        assert first_month in {key[0] for key in before}, table
        assert first_month not in {key[0] for key in after}, table
        assert rebuilt == {night_month}, table
        assert kept == {key[0] for key in before} - {first_month, night_month}, table
        assert after == builds["months_full_refresh"][table], table


def test_the_withdrawn_shares_leave_the_daily_engagement_too(builds):
    """fct_post_engagement_daily is keyed by the post: its pre-hook deletes the withdrawn shares' days through the
    post, so no day is left whose share fct_shares no longer has (its relationships test would fail the night)."""
    withdrawn = set(builds["before"]) - set(builds["incremental"])
    assert withdrawn & builds["engaged_before"]
    assert builds["orphan_engagement_days"] == 0


def test_the_content_sharers_lost_the_pairs_left_without_a_share_like_a_full_rebuild(builds):
    """Withdrawing a whole month empties the content × sharer pairs shared only then: the incremental build deletes
    them and re-sums the corrected ones, as a full rebuild does."""
    before, after = builds["sharers_before"], builds["sharers"]
    corrected = builds["before"][builds["corrected"]]
    assert set(after) < set(before)
    assert (corrected["content_id"], corrected["employee_id"]) in after
    assert after == builds["sharers_full_refresh"]


def test_a_piece_whose_describing_share_was_withdrawn_is_described_by_another_like_a_full_rebuild(builds):
    """The withdrawn share described its piece: the pre-hook deletes the piece's description and the build
    describes it again from every share the piece has left (dim_content counts fewer: the emptied month took
    some of its shares too)."""
    withdrawn = builds["withdrawn"]
    piece = next(content for content, row in builds["content_before"].items() if row["share_id"] == withdrawn)
    before, after = builds["content_before"][piece], builds["content"][piece]
    assert after["share_id"] != withdrawn
    assert after["shares"] < before["shares"]
    assert builds["content"] == builds["content_full_refresh"]


def test_a_build_with_nothing_changed_rebuilds_no_month(builds):
    after_correction, unchanged = builds["month_builds"]
    assert after_correction == unchanged
    assert all(after_correction.values())
