"""CSV exports from the file drop, read against a declared schema.

Each row is checked against the schema and becomes an object of typed values; a row that does not fit becomes a
`Quarantined` record with the reason and its raw line. A file whose header lacks a declared column is refused whole
(the caller's error type names the export), unless the column is declared `may_be_absent` (a column a newer version
of the export added): a file without it lands, its records without that key.

The file is read as bytes, one physical line (ended by LF or CRLF) at a time and never more than the line limit
(`settings.FILE_LINE_LIMIT_BYTES`) of a line: memory stays bounded whatever the file holds. A line that is not
UTF-8, longer than the limit, or that the CSV parser refuses is a malformed record like any other: quarantined with
`<file> line <n>: <reason>` (a longer line keeps its first limit bytes there) while the rest of the file lands —
what the file-drop sources do for a row that does not fit the schema. Only a bad header refuses the file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from ingestion.records import Quarantined
from ingestion.timestamps import aware_timestamp
from sharewhy import settings

_BOM = b"\xef\xbb\xbf"


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
    required: bool = True  # the value may not be empty
    may_be_absent: bool = False  # the header may lack the column (older exports): the record then has no key


#: A declared export: column name → how its value is parsed and whether it may be empty (→ null), in file order.
Schema = dict[str, Column]


def parse_row(fields: list[str], header: list[str], schema: Schema) -> dict[str, Any]:
    """The row as an object of typed values; ValueError naming the first problem."""
    if len(fields) != len(header):
        raise ValueError(f"row has {len(fields)} fields, the header has {len(header)}")
    values = dict(zip(header, fields, strict=True))
    record: dict[str, Any] = {}
    for name, column in schema.items():
        if name not in values and column.may_be_absent:
            continue
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


class BadLine(ValueError):
    """A physical line that cannot be read as text: the message says why, `record` is what a person can see of it."""

    def __init__(self, reason: str, record: str) -> None:
        super().__init__(reason)
        self.record = record


class _Lines:
    """Feeds a binary file to csv.reader one decoded physical line at a time, reading at most `limit` + 1 bytes of
    a line; counts the lines read (`number`) and remembers the raw text of the record being read (`take`)."""

    def __init__(self, handle: BinaryIO, limit: int) -> None:
        self._handle, self._limit = handle, limit
        self._consumed: list[str] = []
        self.number = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._handle.readline(self._limit + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if self.number == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if len(line) > self._limit and not line.endswith(b"\n"):
            raise self._oversized(line)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            record = line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
            raise BadLine(
                f"not UTF-8: byte 0x{line[exc.start]:02x} at byte {exc.start + 1} of the line", record
            ) from exc
        self._consumed.append(text)
        return text

    def _oversized(self, start: bytes) -> BadLine:
        """Skip the rest of the line in bounded reads; the error keeps the line's first `limit` bytes."""
        length, rest = len(start), start
        while rest and not rest.endswith(b"\n"):
            rest = self._handle.readline(1 << 20)
            length += len(rest)
        length -= len(rest) - len(rest.rstrip(b"\r\n")) if rest.endswith(b"\n") else 0
        return BadLine(
            f"the line has {length} bytes, more than the limit of {self._limit} (SHAREWHY_FILE_LINE_LIMIT_BYTES);"
            f" its first {self._limit} bytes are kept here",
            start[: self._limit].decode("utf-8", "replace"),
        )

    def take(self) -> str:
        raw, self._consumed = "".join(self._consumed), []
        return raw.rstrip("\r\n")


def read_records(path: Path, schema: Schema, file_error: type[ValueError]) -> Iterator[dict[str, Any] | Quarantined]:
    """Every row of the file: its typed record, or the row quarantined with `<file> line <n>: <reason>`."""
    with path.open("rb") as handle:
        lines = _Lines(handle, settings.FILE_LINE_LIMIT_BYTES)
        reader = csv.reader(lines)
        try:
            header = next(reader, None)
        except (BadLine, csv.Error) as exc:
            raise file_error(f"{path} line {lines.number}: {exc}") from None
        lines.take()
        if header is None:
            raise file_error(f"{path}: the file is empty, expected a header row")
        missing = [name for name, column in schema.items() if name not in header and not column.may_be_absent]
        if missing:
            raise file_error(f"{path}: the header lacks the columns {', '.join(missing)}")
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except (BadLine, csv.Error) as exc:  # a new parser: the refused line may have ended mid-record
                bad = exc.record if isinstance(exc, BadLine) else ""
                raw_record = "\n".join(part for part in (lines.take(), bad) if part)
                yield Quarantined(f"{path.name} line {lines.number}: {exc}", raw_record)
                reader = csv.reader(lines)
                continue
            raw_line = lines.take()
            if not fields:
                continue
            try:
                yield parse_row(fields, header, schema)
            except ValueError as exc:
                yield Quarantined(f"{path.name} line {lines.number}: {exc}", raw_line)
