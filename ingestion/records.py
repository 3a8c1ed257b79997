"""What sources hand to the loader: a stream of `Row`s and `Quarantined` records, plus the state they reach."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson


@dataclass(frozen=True)
class Target:
    """Where one entity lands: `raw.<table>`, whose typed key columns come before `payload` and the load metadata."""

    source: str
    entity: str
    table: str
    key_columns: tuple[str, ...]


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


def as_json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
