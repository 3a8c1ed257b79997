"""CSV exports from the file drop, read against a declared schema.

Each row is checked against the schema and becomes an object of typed values; a row that does not fit becomes a
`Quarantined` record with the reason and its raw line. A file whose header lacks a declared column is refused whole
(the caller's error type names the export).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from ingestion.records import Quarantined
from ingestion.timestamps import aware_timestamp


def text(value: str) -> str:
    return value


def timestamp(value: str) -> str:
    aware_timestamp(value)
    return value


def iso_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)") from None
    if len(value) != 10:
        raise ValueError(f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)")
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


#: A declared export: column name → how its value is parsed and whether it may be empty (→ null), in file order.
Schema = dict[str, Column]


def parse_row(fields: list[str], header: list[str], schema: Schema) -> dict[str, Any]:
    """The row as an object of typed values; ValueError naming the first problem."""
    if len(fields) != len(header):
        raise ValueError(f"row has {len(fields)} fields, the header has {len(header)}")
    values = dict(zip(header, fields))
    record = {}
    for name, column in schema.items():
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


def read_records(
    path: Path, schema: Schema, file_error: type[ValueError]
) -> Iterator[dict[str, Any] | Quarantined]:
    """Every row of the file: its typed record, or the row quarantined with `<file> line <n>: <reason>`."""
    with path.open(newline="", encoding="utf-8-sig") as lines:
        tap = _LineTap(lines)
        reader = csv.reader(tap)
        header = next(reader, None)
        tap.take()
        if header is None:
            raise file_error(f"{path}: the file is empty, expected a header row")
        missing = [name for name in schema if name not in header]
        if missing:
            raise file_error(f"{path}: the header lacks the columns {', '.join(missing)}")
        for fields in reader:
            raw_line = tap.take()
            if not fields:
                continue
            try:
                yield parse_row(fields, header, schema)
            except ValueError as exc:
                yield Quarantined(f"{path.name} line {reader.line_num}: {exc}", raw_line)
