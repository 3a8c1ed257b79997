"""The advocacy shares file drop: declared schema, quarantine of bad rows, loud failure on a bad header."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from api_stubs import SHARES_HEADER, share_line, write_shares_file

from ingestion.records import Quarantined, Row
from ingestion.run import land_advocacy_shares
from ingestion.sources.advocacy import SharesFileError, drop_files, read_shares_file

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


def test_the_optional_content_columns_land_when_the_export_has_them(tmp_path):
    header = SHARES_HEADER + ",content_title,content_type"
    lines = [
        share_line("s-1", POST, "2026-11-24T09:30:00Z") + ',"Policy, updated c-001",policy',
        share_line("s-2", POST, "2026-11-24T10:00:00Z") + ",,",
    ]
    path = write_shares_file(tmp_path, "2026-11-24", lines, header=header)
    rows = list(read_shares_file(path))
    assert [(row.payload["content_title"], row.payload["content_type"]) for row in rows] == [
        ("Policy, updated c-001", "policy"),
        (None, None),
    ]


def test_an_older_export_without_the_content_columns_still_lands_without_those_keys(tmp_path):
    path = write_shares_file(tmp_path, "2026-11-24", [share_line("s-1", POST, "2026-11-24T09:30:00Z")])
    (row,) = read_shares_file(path)
    assert isinstance(row, Row)
    assert "content_title" not in row.payload and "content_type" not in row.payload
    assert row.payload["audience_size"] == 1200


def test_a_header_missing_columns_fails_naming_the_file_and_the_columns(tmp_path):
    header = SHARES_HEADER.replace(",share_mode", "").replace(",audience_size", "")
    path = write_shares_file(tmp_path, "2026-11-24", [], header=header)
    with pytest.raises(SharesFileError) as raised:
        list(read_shares_file(path))
    assert str(raised.value) == f"{path}: the header lacks the columns share_mode, audience_size"


def test_drop_files_are_the_shares_files_up_to_the_logical_date(tmp_path):
    for day in ("2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25"):
        write_shares_file(tmp_path, day, [])
    (tmp_path / "advocacy" / "notes.txt").write_text("not a shares file")
    files = drop_files(tmp_path / "advocacy", until=date(2026, 11, 24))
    assert [(day, path.name) for day, path in files] == [
        (date(2026, 11, 22), "shares_2026-11-22.csv"),
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
        files = conn.execute(
            "select file_name, rows_read, rows_quarantined, load_id::text from raw._file_manifest order by 1"
        ).fetchall()
    assert shares == [("s-1", 1200), ("s-2", 1200), ("s-4", 1200)]
    assert quarantine == [
        ("advocacy", "shares", "shares_2026-11-24.csv line 3: audience_size 'lots' is not a non-negative integer", bad)
    ]
    assert files == [
        ("shares_2026-11-23.csv", 1, 0, first.load_id),
        ("shares_2026-11-24.csv", 1, 1, first.load_id),
        ("shares_2026-11-25.csv", 1, 0, next_night.load_id),
    ]


def test_a_missing_drop_folder_fails_the_load_loudly(fresh_db, tmp_path):
    with pytest.raises(FileNotFoundError, match="advocacy file drop folder"):
        land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)
    with psycopg.connect(fresh_db) as conn:
        status, error = conn.execute("select status, error from raw._loads").fetchone()
    assert status == "failed"
    assert "does not exist" in error


# --- file drops tracked by name and checksum (raw._file_manifest) ----------------------------------------------------


def manifest(url: str) -> list[tuple]:
    """(file name, rows read, superseded?) of every landed version, oldest first."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select file_name, rows_read, superseded_at is not null from raw._file_manifest"
            " where source = 'advocacy' order by manifest_id"
        ).fetchall()


def share_ids(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [key for (key,) in conn.execute("select share_id from raw.advocacy__shares order by 1").fetchall()]


def test_a_late_file_for_a_past_night_lands_on_the_next_run_and_on_an_explicit_rerun(fresh_db, tmp_path):
    write_shares_file(tmp_path, "2026-11-24", [share_line("s-24", POST, "2026-11-24T09:00:00Z")])
    write_shares_file(tmp_path, "2026-11-25", [share_line("s-25", POST, "2026-11-25T09:00:00Z")])
    land_advocacy_shares(fresh_db, date(2026, 11, 25), tmp_path)

    write_shares_file(tmp_path, "2026-11-23", [share_line("s-23", POST, "2026-11-23T09:00:00Z")])  # arrives late
    rerun = land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)
    write_shares_file(tmp_path, "2026-11-22", [share_line("s-22", POST, "2026-11-22T09:00:00Z")])  # later still
    next_night = land_advocacy_shares(fresh_db, date(2026, 11, 25), tmp_path)

    assert (rerun.rows_received, rerun.rows_inserted) == (1, 1)
    assert (next_night.rows_received, next_night.rows_inserted) == (1, 1)
    assert share_ids(fresh_db) == ["s-22", "s-23", "s-24", "s-25"]
    assert sorted(manifest(fresh_db)) == [
        ("shares_2026-11-22.csv", 1, False),
        ("shares_2026-11-23.csv", 1, False),
        ("shares_2026-11-24.csv", 1, False),
        ("shares_2026-11-25.csv", 1, False),
    ]


def test_a_corrected_file_replaces_its_rows_once_and_keeps_the_superseded_version(fresh_db, tmp_path):
    write_shares_file(tmp_path, "2026-11-23", [share_line("s-0", POST, "2026-11-23T09:00:00Z")])
    original = [
        share_line("s-1", POST, "2026-11-24T09:00:00Z"),
        share_line("s-2", POST, "2026-11-24T10:00:00Z", audience_size="12"),
        share_line("s-3", POST, "2026-11-24T11:00:00Z"),  # a share the platform later withdraws
    ]
    write_shares_file(tmp_path, "2026-11-24", original)
    first = land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)
    identical_rerun = land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)

    corrected = [original[0], share_line("s-2", POST, "2026-11-24T10:00:00Z", audience_size="1200")]
    write_shares_file(tmp_path, "2026-11-24", corrected)
    correction = land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)

    assert (first.rows_received, first.rows_inserted) == (4, 4)
    assert (identical_rerun.rows_received, identical_rerun.rows_inserted) == (0, 0)
    assert (correction.rows_received, correction.rows_inserted, correction.rows_quarantined) == (2, 2, 0)
    with psycopg.connect(fresh_db) as conn:
        shares = conn.execute(
            "select share_id, (payload->>'audience_size')::int, count(*) over (partition by share_id)"
            " from raw.advocacy__shares order by 1"
        ).fetchall()
        superseded = conn.execute(
            "select m.file_name, s.row->>'share_id', (s.row->'payload'->>'audience_size')::int"
            " from raw._superseded_rows s join raw._file_manifest m using (manifest_id) order by 2"
        ).fetchall()
        versions = conn.execute(
            "select old.sha256 <> new.sha256, old.superseded_by_load = new.load_id, new.load_id::text"
            " from raw._file_manifest old join raw._file_manifest new"
            " on new.file_name = old.file_name and new.superseded_at is null"
            " where old.superseded_at is not null"
        ).fetchall()
        quarantined = conn.execute("select count(*) from raw._quarantine").fetchone()[0]
    assert shares == [("s-0", 1200, 1), ("s-1", 1200, 1), ("s-2", 1200, 1)]
    assert superseded == [
        ("shares_2026-11-24.csv", "s-1", 1200),
        ("shares_2026-11-24.csv", "s-2", 12),
        ("shares_2026-11-24.csv", "s-3", 1200),
    ]
    assert versions == [(True, True, correction.load_id)]
    assert manifest(fresh_db) == [
        ("shares_2026-11-23.csv", 1, False),
        ("shares_2026-11-24.csv", 3, True),
        ("shares_2026-11-24.csv", 2, False),
    ]
    assert quarantined == 0


def test_a_night_without_its_file_fails_loudly_and_the_shares_sensor_keeps_waiting(fresh_db, tmp_path):
    from pipeline.landings import shares_landed

    write_shares_file(tmp_path, "2026-11-23", [share_line("s-23", POST, "2026-11-23T09:00:00Z")])
    with pytest.raises(FileNotFoundError, match="no advocacy shares export for 2026-11-24"):
        land_advocacy_shares(fresh_db, date(2026, 11, 24), tmp_path)
    write_shares_file(tmp_path, "2026-11-25", [share_line("s-25", POST, "2026-11-25T09:00:00Z")])
    land_advocacy_shares(fresh_db, date(2026, 11, 25), tmp_path)  # the next night lands, its file is there

    with psycopg.connect(fresh_db) as conn:
        loads = conn.execute("select logical_date::text, status, error from raw._loads order by started_at").fetchall()
    assert loads[0][:2] == ("2026-11-24", "failed")
    assert "shares_2026-11-24.csv does not exist" in loads[0][2]
    assert shares_landed(fresh_db, date(2026, 11, 25))
    assert not shares_landed(fresh_db, date(2026, 11, 24))  # LinkedIn/X/Bitly keep waiting


def test_a_night_in_the_future_is_refused_and_moves_nothing_forward(fresh_db, tmp_path):
    today = datetime.now(UTC).date()
    future = today + timedelta(days=30)
    write_shares_file(tmp_path, future.isoformat(), [share_line("s-future", POST, f"{future}T09:00:00Z")])
    write_shares_file(tmp_path, today.isoformat(), [share_line("s-today", POST, f"{today}T09:00:00Z")])
    with pytest.raises(ValueError, match=f"the night {future} is in the future"):
        land_advocacy_shares(fresh_db, future, tmp_path)

    from pipeline.landings import shares_landed

    assert share_ids(fresh_db) == []
    assert not shares_landed(fresh_db, today)
    land_advocacy_shares(fresh_db, today, tmp_path)
    assert share_ids(fresh_db) == ["s-today"]


# --- bad bytes and oversized lines: named by file and line, read with bounded memory ---------------------------------


def test_a_line_that_is_not_utf8_is_quarantined_naming_file_and_line_and_the_rest_lands(tmp_path):
    path = write_shares_file(tmp_path, "2026-11-24", [])
    good = [share_line(f"s-{n}", POST, "2026-11-24T09:00:00Z") for n in range(3)]
    bad = share_line("s-bad", POST, "2026-11-24T09:00:00Z", campaign="caf\xe9").encode("latin-1")
    path.write_bytes(b"\n".join([SHARES_HEADER.encode(), good[0].encode(), bad, good[1].encode(), good[2].encode()]))

    records = list(read_shares_file(path))

    assert [r.keys for r in records if isinstance(r, Row)] == [("s-0",), ("s-1",), ("s-2",)]
    [quarantined] = [r for r in records if isinstance(r, Quarantined)]
    column = bad.index(b"\xe9")
    assert quarantined.reason == (
        f"shares_2026-11-24.csv line 3: not UTF-8: byte 0xe9 at byte {column + 1} of the line"
    )
    assert quarantined.record == bad.decode("utf-8", "backslashreplace")


def test_a_header_that_is_not_utf8_fails_the_file_naming_file_and_line(tmp_path):
    path = write_shares_file(tmp_path, "2026-11-24", [])
    path.write_bytes(SHARES_HEADER.encode() + b",r\xe9gion\n")
    with pytest.raises(SharesFileError) as raised:
        list(read_shares_file(path))
    assert str(raised.value) == f"{path} line 1: not UTF-8: byte 0xe9 at byte {len(SHARES_HEADER) + 3} of the line"


LINE_BYTES = 200 * 2**20  # a 200 MB line: far past the line limit


def test_an_oversized_line_is_quarantined_with_file_and_line_and_memory_stays_bounded(fresh_db, tmp_path):
    """A 200 MB line is skipped in bounded chunks (quarantined with its first bytes), never read whole: the landing
    process's peak RSS stays far below the line's size; the rows around it land."""
    import subprocess
    import sys

    path = write_shares_file(tmp_path, "2026-11-24", [])
    with path.open("wb") as out:
        out.write(SHARES_HEADER.encode() + b"\n" + share_line("s-1", POST, "2026-11-24T09:00:00Z").encode() + b"\n")
        out.write(b"s-huge,")
        chunk = b"x" * 2**20
        for _ in range(LINE_BYTES // len(chunk)):
            out.write(chunk)
        out.write(b"\n" + share_line("s-2", POST, "2026-11-24T10:00:00Z").encode() + b"\n")
    probe = (
        "import re, sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from ingestion.run import land_advocacy_shares\n"
        "report = land_advocacy_shares(sys.argv[1], date(2026, 11, 24), Path(sys.argv[2]))\n"
        # VmHWM, this process's own peak: getrusage's ru_maxrss keeps the forking pytest's peak across exec
        "peak = re.search(r'VmHWM:\\s+(\\d+) kB', Path('/proc/self/status').read_text()).group(1)\n"
        "print(report.rows_inserted, report.rows_quarantined, peak)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, fresh_db, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    inserted, quarantined, peak_kib = map(int, done.stdout.split())

    assert (inserted, quarantined) == (2, 1)
    assert peak_kib * 1024 < 150 * 2**20  # 150 MB: the interpreter and its imports; the line alone is 200 MB
    with psycopg.connect(fresh_db) as conn:
        reason, record_length = conn.execute("select reason, length(record) from raw._quarantine").fetchone()
    assert reason == (
        f"shares_2026-11-24.csv line 3: the line has {LINE_BYTES + 7} bytes, more than the limit of"
        f" {2**20} (SHAREWHY_FILE_LINE_LIMIT_BYTES); its first {2**20} bytes are kept here"
    )
    assert record_length == 2**20


def test_a_file_rewritten_while_it_is_read_fails_the_load_rather_than_landing_a_mix(tmp_path):
    from ingestion.sources.advocacy import SharesExtraction

    lines = [share_line(f"s-{n}", POST, "2026-11-24T09:00:00Z") for n in range(3)]
    path = write_shares_file(tmp_path, "2026-11-24", lines)
    extraction = SharesExtraction(tmp_path, date(2026, 11, 24))
    [chosen] = extraction.choose({})
    records = extraction.records()
    next(records)
    write_shares_file(tmp_path, "2026-11-24", lines + [share_line("s-9", POST, "2026-11-24T23:00:00Z")])
    with pytest.raises(SharesFileError, match=f"{path} changed while it was being read"):
        list(records)
    assert chosen.name == path.name and extraction.rows_read() == {}
