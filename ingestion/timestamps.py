"""Timestamps as sources deliver them: ISO 8601 with a UTC offset — or a ValueError whose text is the quarantine
reason."""

from __future__ import annotations

from datetime import datetime


def aware_timestamp(value: object, field: str | None = None) -> datetime:
    """`value` as an ISO 8601 timestamp carrying a UTC offset; the error names `field` when given."""
    named = f"{field} {value!r}" if field else repr(value)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{named} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise ValueError(f"{named} has no UTC offset")
    return moment
