"""The HR roster export: `<drop_dir>/hr/roster_<YYYY-MM-DD>.csv`, the full roster as of that day, one file a night.

A night lands exactly its own day's file, so `raw.hr__roster` keeps one roster per logical date (unique on employee
× logical date) and a backfill of a night re-lands that night's roster only: the nightly rosters are the history the
warehouse derives team membership over time from. Rows are checked against the declared schema; a row that does
not fit goes to quarantine with the reason and its raw line, a file whose header lacks a declared column is refused
whole, and a night without its file fails loudly (the export is late: the task's retries wait for it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingestion.records import Quarantined, Row, Target
from ingestion.sources.csv_export import Column, Schema, iso_date, read_records, text

TARGET = Target("hr", "roster", "hr__roster", ("employee_id",))

FOLDER = "hr"

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class RosterFileError(ValueError):
    """A roster file that cannot be read as the declared export at all."""


def email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


#: The export's columns, in file order: how each value is parsed, and whether it may be empty (→ null).
SCHEMA: Schema = {
    "employee_id": Column(text),
    "email": Column(email),
    "team": Column(text),
    "department": Column(text),
    "manager": Column(text, required=False),  # the manager's employee id; empty for the top of the hierarchy
    "location": Column(text, required=False),
    "start_date": Column(iso_date),
}


def roster_file(drop_dir: Path, day: date) -> Path:
    return Path(drop_dir) / FOLDER / f"roster_{day.isoformat()}.csv"


def read_roster_file(path: Path) -> Iterator[Row | Quarantined]:
    extracted_at = datetime.now(UTC)
    for record in read_records(path, SCHEMA, RosterFileError):
        if isinstance(record, Quarantined):
            yield record
        else:
            yield Row((record["employee_id"],), record, str(path), extracted_at)


class RosterExtraction:
    """The roster file of the logical date. State: `{"last_day": "YYYY-MM-DD"}`, the latest night landed."""

    api_calls = 0

    def __init__(self, drop_dir: Path, logical_date: date, previous_state: dict[str, Any] | None) -> None:
        folder = Path(drop_dir) / FOLDER
        if not folder.is_dir():
            raise FileNotFoundError(f"the HR file drop folder {folder} does not exist")
        self._path = roster_file(drop_dir, logical_date)
        if not self._path.is_file():
            raise FileNotFoundError(f"no HR roster export for {logical_date.isoformat()}: {self._path} does not exist")
        last_day = (previous_state or {}).get("last_day")
        self._last_day = max(date.fromisoformat(last_day), logical_date) if last_day else logical_date

    def records(self) -> Iterator[Row | Quarantined]:
        yield from read_roster_file(self._path)

    def state(self) -> dict[str, Any]:
        return {"last_day": self._last_day.isoformat()}
