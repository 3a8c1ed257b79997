"""The survey instrument as the gate reads it: the dbt seed `survey_instrument.csv`, the one place items are listed.

dbt scores answers with the same file, so the Likert bounds the gate checks cannot drift from the ones the
scores assume.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sharewhy import settings

INSTRUMENT_CSV = settings.DBT_PROJECT_DIR / "seeds" / "survey_instrument.csv"


@dataclass(frozen=True)
class SurveyItem:
    #: The question's Typeform `field.ref` (and SurveyMonkey `variable_id`).
    question_ref: str
    construct: str
    scale_min: int
    scale_max: int
    #: The question's id in the Qualtrics survey (`QID3`), when the instrument maps it (column `qualtrics_question_id`).
    qualtrics_question_id: str | None = None


def survey_items(path: Path = INSTRUMENT_CSV) -> tuple[SurveyItem, ...]:
    with path.open(newline="") as file:
        return tuple(
            SurveyItem(
                row["question_ref"], row["construct"], int(row["scale_min"]), int(row["scale_max"]),
                (row.get("qualtrics_question_id") or "").strip() or None,
            )
            for row in csv.DictReader(file)
        )
