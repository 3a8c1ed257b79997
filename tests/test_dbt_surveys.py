"""The survey vendors end to end on a real dbt build: simulated nights of Typeform, SurveyMonkey and Qualtrics
(nights months apart, so each vendor runs two or three waves' surveys, each with ids of its own and Qualtrics QIDs
in an order of its own) landed by the ingestion code and built by `dbt build` up to the construct scores.

The dbt project is copied so that the tenant's configuration can differ from the committed one: each Qualtrics
survey names its respondents another way (the simulator is told which, the seed `survey_respondent_links` says
the same), and the last test removes a survey from the instrument to see the build refuse it.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from ingestion.run import (
    ApiConfig,
    land_hr_roster,
    land_qualtrics_responses,
    land_surveymonkey_responses,
    land_surveymonkey_survey_details,
    land_typeform_responses,
)
from sharewhy import settings
from simulator import qualtrics, surveymonkey
from simulator.company import SURVEY_ITEMS, Company
from simulator.server import start

TOKEN = "survey-dbt-token"
SEED = 7
#: Three nights about two waves apart (a wave opens every six weeks, the company shows the last three, one per
#: vendor): three Qualtrics surveys, two each on Typeform and SurveyMonkey. Each Qualtrics survey names its
#: respondents its own way.
NIGHTS = (date(2026, 11, 25), date(2027, 1, 30), date(2027, 5, 1))
LINKS = ("externalDataReference", "embedded:staff_ref", "recipientEmail")
CONSTRUCTS = ("obligated", "good_news", "proud", "educate")


def as_of(night: date) -> datetime:
    return datetime.combine(night + timedelta(days=1), time(), UTC)


def company(night: date) -> Company:
    return Company(SEED, as_of(night))


def expected_scores(answers) -> dict[str, Decimal]:
    """Mean of each construct's items on the 1–5 scale, reverse-coded items flipped back."""
    scores = {}
    for construct in CONSTRUCTS:
        items = [item for item in SURVEY_ITEMS if item.construct == construct]
        values = [6 - answers[item.ref] if item.reverse_coded else answers[item.ref] for item in items]
        scores[construct] = Decimal(sum(values)) / len(values)
    return scores


def run_dbt(project: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
        ],
        env={**os.environ, **settings.libpq_env(url), "DO_NOT_TRACK": "1"},
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def built(module_db, tmp_path_factory):
    project = tmp_path_factory.mktemp("dbt") / "dbt_project"
    shutil.copytree(settings.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    links = {}
    for night, link in zip(NIGHTS, LINKS, strict=True):
        [wave] = company(night).survey_waves_for("qualtrics")
        links[qualtrics.survey_id(wave)] = link
    with (project / "seeds" / "survey_respondent_links.csv").open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for survey, link in links.items():
            if link != "externalDataReference":  # that one is the `*` default
                writer.writerow(["qualtrics", survey, link])
    for night in NIGHTS:
        drop_dir = tmp_path_factory.mktemp(f"drop-{night}")
        with start(
            as_of(night),
            SEED,
            drop_dir=drop_dir,
            token=TOKEN,
            qualtrics_polls_to_complete=1,
            qualtrics_link_fields=links,
        ) as sim:
            land_hr_roster(module_db, night, drop_dir)
            land_typeform_responses(module_db, night, ApiConfig(sim.typeform_base_url, TOKEN), sim.form_ids)
            monkey = ApiConfig(sim.surveymonkey_base_url, TOKEN)
            land_surveymonkey_survey_details(module_db, night, monkey, sim.surveymonkey_survey_ids)
            land_surveymonkey_responses(module_db, night, monkey, sim.surveymonkey_survey_ids)
            land_qualtrics_responses(
                module_db, night, ApiConfig(sim.qualtrics_base_url, TOKEN), sim.qualtrics_survey_ids, poll_interval=0.01
            )
    result = run_dbt(
        project,
        module_db,
        "build",
        "--select",
        "+int_survey__construct_scores",
        "+dim_motivation",
        "--indirect-selection",
        "cautious",
    )
    assert result.returncode == 0, result.stdout[-6000:]
    with psycopg.connect(module_db, row_factory=dict_row) as conn:
        scores = conn.execute(
            "select source, survey_id, response_id, employee_id, construct, items_answered, mean_score"
            " from intermediate.int_survey__construct_scores"
        ).fetchall()
        links_used = conn.execute("select * from intermediate.int_qualtrics__respondents").fetchall()
    return {"project": project, "url": module_db, "scores": scores, "links": links_used}


def vendor_responses(vendor: str):
    """(survey id, response id) → the simulated response, for every response each vendor's surveys have."""
    responses = {}
    for night in NIGHTS:
        seen = company(night)
        for wave in seen.survey_waves_for(vendor):
            for response in wave.responses:
                if response.submitted_at >= seen.as_of:
                    continue
                if vendor == "typeform":
                    key = (wave.form_id, response.token)
                elif vendor == "surveymonkey":
                    key = (surveymonkey.survey_id(wave), surveymonkey.response_id(response))
                else:
                    key = (qualtrics.survey_id(wave), qualtrics.response_id(response))
                responses[key] = response
    return responses


@pytest.mark.parametrize("vendor", ["typeform", "surveymonkey", "qualtrics"])
def test_every_respondent_of_every_wave_gets_a_complete_and_right_profile(built, vendor):
    expected = vendor_responses(vendor)
    # one survey per wave, ids of its own: three waves on Qualtrics, two on each other vendor
    assert len({survey for survey, _ in expected}) == (3 if vendor == "qualtrics" else 2)
    got = {}
    for row in built["scores"]:
        if row["source"] == vendor:
            got.setdefault((row["survey_id"], row["response_id"]), {})[row["construct"]] = row
    assert set(got) == set(expected)
    for key, response in expected.items():
        profile = got[key]
        assert set(profile) == set(CONSTRUCTS), key
        assert {row["employee_id"] for row in profile.values()} == {response.employee_id}, key
        assert {construct: row["items_answered"] for construct, row in profile.items()} == dict.fromkeys(CONSTRUCTS, 2)
        assert {construct: row["mean_score"] for construct, row in profile.items()} == expected_scores(response.answers)


def test_two_qualtrics_surveys_order_their_questions_differently(built):
    orders = [qualtrics.question_ids(wave) for night in NIGHTS for wave in company(night).survey_waves_for("qualtrics")]
    assert len({tuple(order.items()) for order in orders}) == len(NIGHTS)  # scored right above, all the same


def test_each_qualtrics_survey_links_its_respondents_by_its_configured_field(built):
    by_survey = {}
    for row in built["links"]:
        by_survey.setdefault(row["survey_id"], set()).add((row["link_field"], row["employee_id"] is not None))
    surveys = {
        qualtrics.survey_id(wave): link
        for night, link in zip(NIGHTS, LINKS, strict=True)
        for wave in company(night).survey_waves_for("qualtrics")
    }
    assert by_survey == {survey: {(link, True)} for survey, link in surveys.items()}


def test_a_survey_the_instrument_does_not_map_fails_the_build_naming_its_items(built):
    """Last (it changes the module's seed): one SurveyMonkey survey's rows removed from the instrument."""
    project, url = built["project"], built["url"]
    [wave] = company(NIGHTS[0]).survey_waves_for("surveymonkey")
    survey = surveymonkey.survey_id(wave)
    seed = project / "seeds" / "survey_instrument.csv"
    rows = list(csv.DictReader(seed.open()))
    kept = [row for row in rows if row["survey_id"] != survey]
    assert len(rows) - len(kept) == len(SURVEY_ITEMS)
    with seed.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)

    result = run_dbt(project, url, "build", "--select", "survey_instrument", "int_survey__answers")

    assert result.returncode != 0
    question_ids = sorted(surveymonkey.question_ids(wave))
    assert f"surveymonkey survey {survey}: no item of {', '.join(CONSTRUCTS)}" in result.stdout, result.stdout[-3000:]
    assert f"unmapped item keys: {', '.join(question_ids)}" in result.stdout
    assert "seeds/survey_instrument.csv" in result.stdout
