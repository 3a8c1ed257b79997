"""The advocacy platform's shares export: `<drop_dir>/advocacy/shares_<YYYY-MM-DD>.csv`, one file per UTC day.

Each row is checked against a declared schema and landed as an object of typed values; a row that does not fit
goes to quarantine with the reason and its raw line. A file whose header lacks a declared column is refused whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingestion.records import Quarantined, Row, Target
from ingestion.sources.csv_export import (
    Column,
    Schema,
    boolean,
    non_negative_int,
    one_of,
    read_records,
    text,
    timestamp,
)

TARGET = Target("advocacy", "shares", "advocacy__shares", ("share_id",))

FOLDER = "advocacy"
FILE_NAME = re.compile(r"shares_(\d{4}-\d{2}-\d{2})\.csv")


class SharesFileError(ValueError):
    """A shares file that cannot be read as the declared export at all."""


#: The export's columns, in file order: how each value is parsed, and whether it may be empty (→ null).
SCHEMA: Schema = {
    "share_id": Column(text),
    "employee_id": Column(text),
    "content_id": Column(text),
    "network": Column(text),
    "post_id": Column(text),
    "shared_at": Column(timestamp),
    "tracking_link": Column(text),
    "share_mode": Column(one_of("manual", "scheduled")),
    "copy_edited": Column(boolean),
    "campaign": Column(text, required=False),
    "audience_size": Column(non_negative_int),
}


def read_shares_file(path: Path) -> Iterator[Row | Quarantined]:
    extracted_at = datetime.now(UTC)
    for record in read_records(path, SCHEMA, SharesFileError):
        if isinstance(record, Quarantined):
            yield record
        else:
            yield Row((record["share_id"],), record, str(path), extracted_at)


def due_files(folder: Path, after: date | None, until: date) -> list[tuple[date, Path]]:
    """Shares files for the days after `after` up to `until` inclusive, oldest first."""
    if not folder.is_dir():
        raise FileNotFoundError(f"the advocacy file drop folder {folder} does not exist")
    files = []
    for path in folder.iterdir():
        match = FILE_NAME.fullmatch(path.name)
        if match:
            day = date.fromisoformat(match.group(1))
            if (after is None or day > after) and day <= until:
                files.append((day, path))
    return sorted(files)


class SharesExtraction:
    """Every shares file not landed yet, up to the logical date. State: `{"last_day": "YYYY-MM-DD" | None}`."""

    api_calls = 0

    def __init__(self, drop_dir: Path, logical_date: date, previous_state: dict[str, Any] | None) -> None:
        last_day = (previous_state or {}).get("last_day")
        self._last_day = date.fromisoformat(last_day) if last_day else None
        self._files = due_files(drop_dir / FOLDER, self._last_day, logical_date)

    def records(self) -> Iterator[Row | Quarantined]:
        for day, path in self._files:
            yield from read_shares_file(path)
            self._last_day = day

    def state(self) -> dict[str, Any]:
        return {"last_day": self._last_day.isoformat() if self._last_day else None}
