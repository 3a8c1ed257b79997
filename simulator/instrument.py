"""The seed `dbt_project/seeds/survey_instrument.csv` for the simulated company's surveys.

Each wave may run on a different vendor, with item ids of that vendor's making: the seed maps (source, survey id,
item key) → construct, reverse coding, scale (`survey_id = '*'`: any survey of that vendor; a concrete survey's row
wins). Typeform's item key is the field's `ref`, the same in every form: one `*` row per item. SurveyMonkey's is the
question id and Qualtrics' the QID, both of the survey: rows per survey id, taken from the simulators (which derive
them from the wave's `form_id`).

    python -m simulator.instrument [--seed 7] [--as-of 2026-11-26]   # rewrites the seed for that night's surveys
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from simulator import qualtrics, surveymonkey
from simulator.company import SURVEY_ITEMS, SURVEY_VENDORS, Company, SurveyWave

COLUMNS = ("source", "survey_id", "item_key", "construct", "reverse_coded", "scale_min", "scale_max")
SCALE = (1, 5)
SEED_PATH = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "survey_instrument.csv"
#: The night the committed seed is generated for (tests/test_simulator_surveys.py checks it covers that night).
DEFAULT_SEED, DEFAULT_AS_OF = 7, datetime(2026, 11, 26, tzinfo=UTC)


def _row(source: str, survey_id: str, item_key: str, ref: str) -> dict[str, str]:
    item = next(item for item in SURVEY_ITEMS if item.ref == ref)
    return {
        "source": source,
        "survey_id": survey_id,
        "item_key": item_key,
        "construct": item.construct,
        "reverse_coded": "true" if item.reverse_coded else "false",
        "scale_min": str(SCALE[0]),
        "scale_max": str(SCALE[1]),
    }


def instrument_rows(company_waves_by_vendor: Mapping[str, Iterable[SurveyWave]]) -> list[dict[str, str]]:
    """The seed's rows for the waves each vendor runs (`{vendor: Company.survey_waves_for(vendor)}`), sorted."""
    rows = []
    for vendor, waves in company_waves_by_vendor.items():
        waves = list(waves)
        if vendor == "typeform":
            if waves:  # Typeform items are named by `ref` in every form
                rows += [_row("typeform", "*", item.ref, item.ref) for item in SURVEY_ITEMS]
        elif vendor == "surveymonkey":
            for wave in waves:
                sid = surveymonkey.survey_id(wave)
                rows += [_row(vendor, sid, qid, ref) for qid, ref in surveymonkey.question_ids(wave).items()]
        elif vendor == "qualtrics":
            for wave in waves:
                sid = qualtrics.survey_id(wave)
                rows += [_row(vendor, sid, qid, ref) for qid, ref in qualtrics.question_ids(wave).items()]
        else:
            raise ValueError(f"unknown survey vendor {vendor!r}")
    unique = {(row["source"], row["survey_id"], row["item_key"]): row for row in rows}
    return [unique[key] for key in sorted(unique)]


def company_rows(company: Company) -> list[dict[str, str]]:
    return instrument_rows({vendor: company.survey_waves_for(vendor) for vendor in SURVEY_VENDORS})


def write_seed(rows: list[dict[str, str]], path: Path = SEED_PATH) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-of", type=datetime.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--out", type=Path, default=SEED_PATH)
    args = parser.parse_args(argv)
    as_of = args.as_of if args.as_of.tzinfo else args.as_of.replace(tzinfo=UTC)
    path = write_seed(company_rows(Company(args.seed, as_of)), args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
