"""What sources hand to the loader: a stream of `Row`s and `Quarantined` records, plus the state they reach."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson

#: The columns every landed table has after its typed key columns.
METADATA_COLUMNS = ("payload", "_load_id", "_extracted_at", "_logical_date", "_request")


@dataclass(frozen=True)
class Target:
    """Where one entity lands: `raw.<table>`, whose typed key columns come before `payload` and the load metadata."""

    source: str
    entity: str
    table: str
    key_columns: tuple[str, ...]

    @property
    def landed_columns(self) -> tuple[str, ...]:
        """The columns a load writes, in COPY order."""
        return (*self.key_columns, *METADATA_COLUMNS)


@dataclass(frozen=True, slots=True)
class Row:
    keys: tuple[Any, ...]  # values of Target.key_columns, in order
    payload: Any  # the record, JSON-serialisable
    request: str  # credential-free request URL, or the file path
    extracted_at: datetime


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record refused by validation: kept in raw._quarantine with the reason, never dropped silently."""

    reason: str
    record: str  # the record as received (JSON text, or the raw CSV line)


class Extraction(Protocol):
    """One entity's pull for one load. `state()` is read after `records()` is exhausted."""

    @property
    def api_calls(self) -> int: ...

    def records(self) -> Iterator[Row | Quarantined]: ...

    def state(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DropFile:
    """One version of a file in a file drop: what raw._file_manifest tracks."""

    name: str
    path: Path
    sha256: str
    size_bytes: int


@runtime_checkable
class FileDropExtraction(Extraction, Protocol):
    """An extraction of files from a drop folder. The loader keeps the versions it lands in raw._file_manifest and
    asks, before reading, which files to land given those already landed (`choose`); after `records()` is
    exhausted, `rows_read()` gives (rows, quarantined lines) read from each chosen file, by name."""

    def choose(self, landed: Mapping[str, str]) -> list[DropFile]: ...

    def rows_read(self) -> Mapping[str, tuple[int, int]]: ...


def as_json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
