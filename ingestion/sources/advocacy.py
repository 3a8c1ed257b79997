"""The advocacy platform's shares export: `<drop_dir>/advocacy/shares_<YYYY-MM-DD>.csv`, one file per UTC day.

Each row is checked against a declared schema and landed as an object of typed values; a row that does not fit
goes to quarantine with the reason and its raw line. A file whose header lacks a declared column is refused whole.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from ingestion.records import Quarantined, Row, Target

TARGET = Target("advocacy", "shares", "advocacy__shares", ("share_id",))

FOLDER = "advocacy"
FILE_NAME = re.compile(r"shares_(\d{4}-\d{2}-\d{2})\.csv")


class SharesFileError(ValueError):
    """A shares file that cannot be read as the declared export at all."""


def text(value: str) -> str:
    return value


def timestamp(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return value


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"{value!r} is not true or false")
    return lowered == "true"


def non_negative_int(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"{value!r} is not a non-negative integer")
    return int(value)


def one_of(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return parse


@dataclass(frozen=True)
class Column:
    parse: Callable[[str], Any]
    required: bool = True


#: The export's columns, in file order: how each value is parsed, and whether it may be empty (→ null).
SCHEMA: dict[str, Column] = {
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


def parse_row(fields: list[str], header: list[str]) -> dict[str, Any]:
    """The row as an object of typed values; ValueError naming the first problem."""
    if len(fields) != len(header):
        raise ValueError(f"row has {len(fields)} fields, the header has {len(header)}")
    values = dict(zip(header, fields))
    record = {}
    for name, column in SCHEMA.items():
        value = values[name]
        if value == "":
            if column.required:
                raise ValueError(f"{name} is empty")
            record[name] = None
            continue
        try:
            record[name] = column.parse(value)
        except ValueError as exc:
            raise ValueError(f"{name} {exc}") from None
    return record


class _LineTap:
    """Feeds a file to csv.reader line by line and remembers the raw text of the row being read."""

    def __init__(self, lines: TextIO) -> None:
        self._lines = lines
        self._consumed: list[str] = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._consumed.append(line)
        return line

    def take(self) -> str:
        raw, self._consumed = "".join(self._consumed), []
        return raw.rstrip("\r\n")


def read_shares_file(path: Path) -> Iterator[Row | Quarantined]:
    extracted_at = datetime.now(UTC)
    with path.open(newline="", encoding="utf-8-sig") as lines:
        tap = _LineTap(lines)
        reader = csv.reader(tap)
        header = next(reader, None)
        tap.take()
        if header is None:
            raise SharesFileError(f"{path}: the file is empty, expected a header row")
        missing = [name for name in SCHEMA if name not in header]
        if missing:
            raise SharesFileError(f"{path}: the header lacks the columns {', '.join(missing)}")
        for fields in reader:
            raw_line = tap.take()
            if not fields:
                continue
            try:
                record = parse_row(fields, header)
            except ValueError as exc:
                yield Quarantined(f"{path.name} line {reader.line_num}: {exc}", raw_line)
                continue
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
