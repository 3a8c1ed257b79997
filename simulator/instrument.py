"""The seed `dbt_project/seeds/survey_instrument.csv` for the simulated company's surveys.

Each wave may run on a different vendor, with item ids of that vendor's making: the seed maps (source, survey id,
item key) → construct, reverse coding, scale (`survey_id = '*'`: any survey of that vendor; a concrete survey's row
wins). Typeform's item key is the field's `ref`, the same in every form: one `*` row per item. SurveyMonkey's is the
question id and Qualtrics' the QID, both of the survey: rows per survey id, taken from the simulators (which derive
them from the wave's `form_id`).

    python -m simulator.instrument [--seed 7] [--from 2026-01-01] [--to 2028-12-31]

rewrites the seed for the surveys the simulated company serves on every night of that span (a wave opens every six
weeks, each with survey ids of its own), so the demo's default night (yesterday) is covered too. A night outside the
span has surveys the seed does not map: dbt then fails naming them (`int_survey__answers`), and this command with a
wider span fixes it.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from simulator import qualtrics, surveymonkey
from simulator.company import SURVEY_ITEMS, SURVEY_VENDORS, Company, SurveyWave

COLUMNS = ("source", "survey_id", "item_key", "construct", "reverse_coded", "scale_min", "scale_max")
SCALE = (1, 5)
SEED_PATH = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "survey_instrument.csv"
#: The company and the nights the committed seed covers (tests/test_simulator_surveys.py checks it covers the
#: tests' night, 2026-11-25).
DEFAULT_SEED, DEFAULT_FROM, DEFAULT_TO = 7, date(2026, 1, 1), date(2028, 12, 31)


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


def span_rows(seed: int, first: date, last: date) -> list[dict[str, str]]:
    """The rows for the surveys served on any night from `first` to `last` (observed at the end of each night;
    waves change at most once a day, so every night is looked at)."""
    waves: dict[str, dict[str, SurveyWave]] = {vendor: {} for vendor in SURVEY_VENDORS}
    night = first
    while night <= last:
        company = Company(seed, datetime.combine(night + timedelta(days=1), time(), UTC))
        for vendor in SURVEY_VENDORS:
            for wave in company.survey_waves_for(vendor):
                waves[vendor].setdefault(wave.form_id, wave)
        night += timedelta(days=1)
    return instrument_rows({vendor: by_form.values() for vendor, by_form in waves.items()})


def write_seed(rows: list[dict[str, str]], path: Path = SEED_PATH) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=DEFAULT_FROM)
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=DEFAULT_TO)
    parser.add_argument("--out", type=Path, default=SEED_PATH)
    args = parser.parse_args(argv)
    rows = span_rows(args.seed, args.first, args.last)
    path = write_seed(rows, args.out)
    print(f"wrote {path}: {len(rows)} rows")


if __name__ == "__main__":
    main()
