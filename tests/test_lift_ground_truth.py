"""The headline lift against the truth of several generating worlds, not only the one the estimator assumes.

Each world is the simulated company (300 employees) with one mechanism switched on (simulator.company.World):
effects that follow the sharer's primary motivation or the whole weight mix, content choice confounded with
motivation, nudge campaigns that reach obligated sharers most, survey noise (acquiescence, skipped items, late
answers) — and all of them at once. Every world runs its three survey waves on Typeform, SurveyMonkey and
Qualtrics. A night lands through the real ingestion entry points from the simulator's HTTP APIs; dbt builds the
lift; the published ratios of every pair of motivations (both rates, network `all`, segment `all`) must lie within
±15 % of the world's realised truth (Company.lift_truth: the shares' true rate multipliers by the sharer's true
primary motivation).
"""

from __future__ import annotations

import itertools
import json
from datetime import date

import psycopg
import pytest
from simulated_warehouse import dbt, land_night

from simulator.company import MOTIVATIONS, World

NIGHT = date(2026, 11, 25)
RATIO_TOLERANCE = 0.15
RATES = ("engagement_rate", "click_through_rate")
EMPLOYEES = 300

WORLDS = {
    "primary_effects": World(effect="primary", employees=EMPLOYEES),
    "mix_effects": World(effect="mix", employees=EMPLOYEES),
    "content_confounded": World(effect="primary", content_confounding=True, employees=EMPLOYEES),
    "nudges_reach_obligated": World(effect="primary", nudges_reach_obligated=True, employees=EMPLOYEES),
    "survey_noise": World(effect="primary", survey_noise=True, employees=EMPLOYEES),
    "everything_at_once": World(
        effect="mix", content_confounding=True, nudges_reach_obligated=True, survey_noise=True, employees=EMPLOYEES
    ),
}


def ratio_errors(estimated: dict[str, dict[str, float]], truth: dict[str, dict[str, float]]) -> dict[str, float]:
    """(estimated ratio ÷ true ratio − 1) for every pair of motivations and both rates."""
    return {
        f"{rate} {a}/{b}": round((estimated[a][rate] / estimated[b][rate]) / (truth[a][rate] / truth[b][rate]) - 1, 3)
        for rate in RATES
        for a, b in itertools.combinations(MOTIVATIONS, 2)
    }


def published_lifts(url: str) -> dict[str, dict[str, float]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select motivation, engagement_rate_lift, click_through_rate_lift, engagement_rate_lift_lower,"
            " click_through_rate_lift_upper, lift_note from bi_build.motivation_lift"
            " where network = 'all' and share_segment = 'all'"
        ).fetchall()
    assert all(note is None and lower > 0 for *_, lower, _, note in rows), rows
    return {m: {"engagement_rate": float(er), "click_through_rate": float(ctr)} for m, er, ctr, *_ in rows}


@pytest.mark.parametrize("world_name", WORLDS)
def test_published_lift_ratios_match_the_worlds_truth(world_name, fresh_db, tmp_path):
    truth_path = land_night(fresh_db, tmp_path / "drop", NIGHT, world=WORLDS[world_name], lift_inputs_only=True)
    dbt(fresh_db, tmp_path, "build", "--select", "+motivation_lift", "--exclude-resource-type", "test", "unit_test")
    truth = json.loads(truth_path.read_text())["lift_truth"]["all"]
    errors = ratio_errors(published_lifts(fresh_db), truth)
    assert all(abs(error) <= RATIO_TOLERANCE for error in errors.values()), errors
