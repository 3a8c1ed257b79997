"""The advocacy shares file drop: declared schema, quarantine of bad rows, loud failure on a bad header."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from test_ingestion_stubs import SHARES_HEADER, share_line, write_shares_file

from ingestion.records import Quarantined, Row
from ingestion.run import land_advocacy_shares
from ingestion.sources.advocacy import SharesFileError, due_files, read_shares_file

POST = "urn:li:share:7000000000000000001"


def test_rows_land_as_objects_of_typed_values(tmp_path):
    path = write_shares_file(
        tmp_path,
        "2026-11-24",
        [
            share_line("s-1", POST, "2026-11-24T09:30:00Z"),
            share_line(
                "s-2",
                POST,
                "2026-11-24T10:00:00Z",
                copy_edited="false",
                campaign='"Q4, launch"',
                share_mode="scheduled",
            ),
        ],
    )
    rows = list(read_shares_file(path))
    assert [row.keys for row in rows] == [("s-1",), ("s-2",)]
    assert rows[0].payload == {
        "share_id": "s-1",
        "employee_id": "e-0001",
        "content_id": "c-001",
        "network": "linkedin",
        "post_id": POST,
        "shared_at": "2026-11-24T09:30:00Z",
        "tracking_link": "bit.ly/abc1234",
        "share_mode": "manual",
        "copy_edited": True,
        "campaign": None,
        "audience_size": 1200,
    }
    assert rows[1].payload["copy_edited"] is False
    assert rows[1].payload["campaign"] == "Q4, launch"
    assert rows[1].request == str(path)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (share_line("s-1", POST, "2026-11-24T09:30:00Z").rsplit(",", 1)[0], "row has 10 fields, the header has 11"),
        (share_line("s-1", POST, "2026-11-24T09:30:00Z") + ",extra", "row has 12 fields, the header has 11"),
        (share_line("s-1", POST, "yesterday"), "shared_at 'yesterday' is not an ISO 8601 timestamp"),
        (share_line("s-1", POST, "2026-11-24T09:30:00"), "shared_at '2026-11-24T09:30:00' has no UTC offset"),
        (
            share_line("s-1", POST, "2026-11-24T09:30:00Z", audience_size="12.5"),
            "audience_size '12.5' is not a non-negative integer",
        ),
        (
            share_line("s-1", POST, "2026-11-24T09:30:00Z", share_mode="viral"),
            "share_mode 'viral' is not one of manual, scheduled",
        ),
        (share_line("s-1", POST, "2026-11-24T09:30:00Z", copy_edited="yes"), "copy_edited 'yes' is not true or false"),
        (share_line("", POST, "2026-11-24T09:30:00Z"), "share_id is empty"),
    ],
)
def test_a_bad_row_is_quarantined_with_its_reason_and_raw_line(tmp_path, line, reason):
    good = share_line("s-0", POST, "2026-11-24T08:00:00Z")
    path = write_shares_file(tmp_path, "2026-11-24", [good, line])
    records = list(read_shares_file(path))
    assert isinstance(records[0], Row)
    assert records[1] == Quarantined(f"shares_2026-11-24.csv line 3: {reason}", line)


def test_a_header_missing_columns_fails_naming_the_file_and_the_columns(tmp_path):
    header = SHARES_HEADER.replace(",share_mode", "").replace(",audience_size", "")
    path = write_shares_file(tmp_path, "2026-11-24", [], header=header)
    with pytest.raises(SharesFileError) as raised:
        list(read_shares_file(path))
    assert str(raised.value) == f"{path}: the header lacks the columns share_mode, audience_size"


def test_due_files_are_the_days_after_the_last_landed_up_to_the_logical_date(tmp_path):
    for day in ("2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25"):
        write_shares_file(tmp_path, day, [])
    (tmp_path / "advocacy" / "notes.txt").write_text("not a shares file")
    due = due_files(tmp_path / "advocacy", after=date(2026, 11, 22), until=date(2026, 11, 24))
    assert [(day, path.name) for day, path in due] == [
        (date(2026, 11, 23), "shares_2026-11-23.csv"),
        (date(2026, 11, 24), "shares_2026-11-24.csv"),
    ]


def test_each_file_lands_once_and_bad_rows_reach_quarantine(fresh_db, tmp_path):
    write_shares_file(tmp_path, "2026-11-23", [share_line("s-1", POST, "2026-11-23T09:00:00Z")])
    bad = share_line("s-3", POST, "2026-11-24T09:00:00Z", audience_size="lots")
    write_shares_file(tmp_path, "2026-11-24", [share_line("s-2", POST, "2026-11-24T08:00:00Z"), bad])
    write_shares_file(tmp_path, "2026-11-25", [share_line("s-4", POST, "2026-11-25T08:00:00Z")])

    first = land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)
    rerun = land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)
    next_night = land_advocacy_shares(fresh_db, date(2026, 11, 25), tmp_path)

    assert (first.rows_received, first.rows_inserted, first.rows_quarantined, first.api_calls) == (3, 2, 1, 0)
    assert (rerun.rows_received, rerun.rows_inserted) == (0, 0)
    assert (next_night.rows_received, next_night.rows_inserted) == (1, 1)
    with psycopg.connect(fresh_db) as conn:
        shares = conn.execute(
            "select share_id, payload->'audience_size' from raw.advocacy__shares order by 1"
        ).fetchall()
        quarantine = conn.execute("select source, entity, reason, record from raw._quarantine").fetchall()
        state = conn.execute("select state from raw._ingestion_state where source = 'advocacy'").fetchone()[0]
    assert shares == [("s-1", 1200), ("s-2", 1200), ("s-4", 1200)]
    assert quarantine == [
        ("advocacy", "shares", "shares_2026-11-24.csv line 3: audience_size 'lots' is not a non-negative integer", bad)
    ]
    assert state == {"last_day": "2026-11-25"}


def test_a_missing_drop_folder_fails_the_load_loudly(fresh_db, tmp_path):
    with pytest.raises(FileNotFoundError, match="advocacy file drop folder"):
        land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)
    with psycopg.connect(fresh_db) as conn:
        status, error = conn.execute("select status, error from raw._loads").fetchone()
    assert status == "failed"
    assert "does not exist" in error
