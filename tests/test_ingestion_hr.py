"""The HR roster file drop: one file per night, declared schema, quarantine of bad rows, loud failure on a gap."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from ingestion.records import Quarantined, Row
from ingestion.run import land_hr_roster
from ingestion.sources.hr import RosterFileError, read_roster_file

HEADER = "employee_id,email,team,department,manager,location,start_date"
LEAD = "e-0001,ada.adler@example.com,sales,revenue,,Berlin,2019-03-01"
MEMBER = "e-0007,ben.berg@example.com,sales,revenue,e-0001,Remote,2021-11-15"


def write_roster(drop_dir: Path, day: str, lines: list[str], header: str = HEADER) -> Path:
    folder = drop_dir / "hr"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"roster_{day}.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_rows_land_as_objects_of_typed_values(tmp_path):
    path = write_roster(tmp_path, "2026-11-24", [LEAD, MEMBER])
    rows = list(read_roster_file(path))
    assert [row.keys for row in rows] == [("e-0001",), ("e-0007",)]
    assert all(isinstance(row, Row) and row.request == str(path) for row in rows)
    assert rows[0].payload == {
        "employee_id": "e-0001",
        "email": "ada.adler@example.com",
        "team": "sales",
        "department": "revenue",
        "manager": None,
        "location": "Berlin",
        "start_date": "2019-03-01",
    }
    assert rows[1].payload["manager"] == "e-0001"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "e-0007,ben.berg.example.com,sales,revenue,e-0001,Remote,2021-11-15",
            "email 'ben.berg.example.com' is not an e-mail address",
        ),
        (
            "e-0007,ben.berg@example.com,sales,revenue,e-0001,Remote,15/11/2021",
            "start_date '15/11/2021' is not an ISO 8601 date (YYYY-MM-DD)",
        ),
        ("e-0007,ben.berg@example.com,,revenue,e-0001,Remote,2021-11-15", "team is empty"),
        ("e-0007,ben.berg@example.com,sales,revenue,e-0001,Remote", "row has 6 fields, the header has 7"),
    ],
)
def test_a_bad_row_is_quarantined_with_its_reason_and_raw_line(tmp_path, line, reason):
    path = write_roster(tmp_path, "2026-11-24", [LEAD, line])
    records = list(read_roster_file(path))
    assert isinstance(records[0], Row)
    assert records[1] == Quarantined(f"roster_2026-11-24.csv line 3: {reason}", line)


def test_a_header_missing_columns_fails_naming_the_file_and_the_columns(tmp_path):
    path = write_roster(tmp_path, "2026-11-24", [], header="employee_id,email,team,department,start_date")
    with pytest.raises(RosterFileError) as raised:
        list(read_roster_file(path))
    assert str(raised.value) == f"{path}: the header lacks the columns manager, location"


def test_each_night_lands_its_own_roster_once(fresh_db, tmp_path):
    write_roster(tmp_path, "2026-11-23", [LEAD, MEMBER])
    moved = MEMBER.replace("sales,revenue,e-0001", "marketing,marketing,e-0002")
    write_roster(tmp_path, "2026-11-24", [LEAD, moved, MEMBER.replace("e-0007,ben", "e-0008,bad").replace("@", "")])

    first = land_hr_roster(fresh_db, date(2026, 11, 23), tmp_path)
    second = land_hr_roster(fresh_db, date(2026, 11, 24), tmp_path)
    rerun = land_hr_roster(fresh_db, date(2026, 11, 23), tmp_path)

    assert (first.rows_received, first.rows_inserted, first.rows_quarantined) == (2, 2, 0)
    assert (second.rows_received, second.rows_inserted, second.rows_quarantined) == (3, 2, 1)
    assert (rerun.rows_received, rerun.rows_inserted, rerun.rows_duplicate) == (2, 0, 2)
    with psycopg.connect(fresh_db) as conn:
        teams = conn.execute(
            "select _logical_date::text, employee_id, payload->>'team' from raw.hr__roster order by 1, 2"
        ).fetchall()
        state = conn.execute("select state from raw._ingestion_state where source = 'hr'").fetchone()[0]
        (quarantined,) = conn.execute("select reason from raw._quarantine where source = 'hr'").fetchone()
    assert teams == [
        ("2026-11-23", "e-0001", "sales"),
        ("2026-11-23", "e-0007", "sales"),
        ("2026-11-24", "e-0001", "sales"),
        ("2026-11-24", "e-0007", "marketing"),
    ]
    assert state == {"last_day": "2026-11-24"}  # a backfill of an earlier night does not move it back
    assert quarantined.startswith("roster_2026-11-24.csv line 4: email")


def test_a_night_without_its_roster_fails_the_load_loudly(fresh_db, tmp_path):
    write_roster(tmp_path, "2026-11-23", [LEAD])
    with pytest.raises(FileNotFoundError, match="no HR roster export for 2026-11-24"):
        land_hr_roster(fresh_db, date(2026, 11, 24), tmp_path)
    with psycopg.connect(fresh_db) as conn:
        status, error = conn.execute("select status, error from raw._loads").fetchone()
    assert status == "failed"
    assert "roster_2026-11-24.csv does not exist" in error
