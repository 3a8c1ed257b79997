"""The survey instrument as the gate reads it: the dbt seed `survey_instrument.csv`, the one place items are listed.

dbt scores answers with the same file, so the Likert bounds the gate checks cannot drift from the ones the
scores assume. An item is (source, survey_id, item_key): `survey_id` `*` stands for any survey of the vendor, and
a concrete survey's row wins over it (`items_relation` gives the rows to a query, `item_of` applies that rule).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sharewhy import settings

INSTRUMENT_CSV = settings.DBT_PROJECT_DIR / "seeds" / "survey_instrument.csv"
ANY_SURVEY = "*"


@dataclass(frozen=True)
class SurveyItem:
    #: `typeform`, `surveymonkey` or `qualtrics`.
    source: str
    #: The vendor's survey, or `*` for any survey of the vendor.
    survey_id: str
    #: Typeform `field.ref`, SurveyMonkey question id, Qualtrics QID.
    item_key: str
    construct: str
    scale_min: int
    scale_max: int
    reverse_coded: bool = False


def survey_items(path: Path = INSTRUMENT_CSV, source: str | None = None) -> tuple[SurveyItem, ...]:
    """The instrument's items (of one vendor, with `source`)."""
    with path.open(newline="") as file:
        items = tuple(
            SurveyItem(
                row["source"],
                row["survey_id"],
                row["item_key"],
                row["construct"],
                int(row["scale_min"]),
                int(row["scale_max"]),
                row["reverse_coded"].strip().lower() == "true",
            )
            for row in csv.DictReader(file)
        )
    return tuple(item for item in items if source is None or item.source == source)


def scales_text(items: tuple[SurveyItem, ...]) -> str:
    """`1–5, 0–10`: the items' scales."""
    return ", ".join(f"{low}–{high}" for low, high in sorted({(item.scale_min, item.scale_max) for item in items}))


def items_relation(items: tuple[SurveyItem, ...]) -> str:
    """SQL for a relation of `items` for a `with instrument_items (survey_id, item_key, scale_min, scale_max) as …`
    (values from configuration, never from data; an empty instrument is an empty relation)."""
    if not items:
        return "(select null::text, null::text, null::int, null::int where false)"
    rows = ", ".join(
        "('{}', '{}', {}, {})".format(
            item.survey_id.replace("'", "''"), item.item_key.replace("'", "''"), item.scale_min, item.scale_max
        )
        for item in items
    )
    return f"(values {rows})"


def item_of(survey: str, key: str) -> str:
    """A lateral subquery (`join lateral … on true`) of the `instrument_items` row (a relation of `items_relation`
    in the query's `with`) for item `key` of survey `survey`: the concrete survey's row, else the `*` row."""
    return (
        "(select instrument_items.item_key, instrument_items.scale_min, instrument_items.scale_max"
        f" from instrument_items where instrument_items.item_key = {key}"
        f" and instrument_items.survey_id in ({survey}, '{ANY_SURVEY}')"
        f" order by instrument_items.survey_id = '{ANY_SURVEY}' limit 1)"
    )
