"""Ground truth: the warehouse's motivation lifts against the simulator's causal model.

The real simulator (seed 7, observed at 2026-11-26 00:00 UTC) feeds the real ingestion entry points for the night
of 2026-11-25; `dbt build` turns that into `bi_build`. The simulator's engagement rate is
0.03 × content quality × Σ_m weight_m × ER_EFFECT[m], so the ratio of two motivations' true lifts is the ratio of
their ER_EFFECT: the estimated lifts (bi_build.motivation_lift, LinkedIn, every share) must rank the motivations
as ER_EFFECT does and get every ratio within ±15 %. The same build must respect k-anonymity everywhere in `bi`
and carry no e-mail address or employee id.
"""

from __future__ import annotations

import itertools
import json
from datetime import date

import psycopg
import pytest
from simulated_warehouse import assert_k_anonymous, dbt, land_night, personal_data_in_bi

from expectations.thresholds import DEFAULT

NIGHT = date(2026, 11, 25)
RATIO_TOLERANCE = 0.15


@pytest.fixture(scope="module")
def demo_tenant(module_db, tmp_path_factory) -> dict:
    truth_path = land_night(module_db, tmp_path_factory.mktemp("drop"), NIGHT)
    dbt(module_db, tmp_path_factory.mktemp("dbt"), "build")
    return {"url": module_db, "truth": json.loads(truth_path.read_text())}


def _engagement_rate_lifts(url: str) -> dict[str, float]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select motivation, engagement_rate_lift from bi_build.motivation_lift"
            " where network = 'linkedin' and share_segment = 'all'"
        ).fetchall()
    return {motivation: float(lift) for motivation, lift in rows}


def test_motivations_rank_by_lift_as_in_the_ground_truth(demo_tenant):
    estimated = _engagement_rate_lifts(demo_tenant["url"])
    truth = demo_tenant["truth"]["ER_EFFECT"]
    assert sorted(estimated, key=estimated.get) == sorted(truth, key=truth.get)


def test_every_ratio_of_two_lifts_is_within_15_percent_of_the_true_ratio(demo_tenant):
    estimated = _engagement_rate_lifts(demo_tenant["url"])
    truth = demo_tenant["truth"]["ER_EFFECT"]
    errors = {
        f"{a}/{b}": round((estimated[a] / estimated[b]) / (truth[a] / truth[b]) - 1, 3)
        for a, b in itertools.combinations(sorted(truth), 2)
    }
    assert all(abs(error) <= RATIO_TOLERANCE for error in errors.values()), errors


def test_no_bi_row_shows_survey_values_for_fewer_than_k_respondents(demo_tenant):
    below_k = assert_k_anonymous(demo_tenant["url"], DEFAULT.k_anonymity)
    assert below_k > 0  # the demo tenant has small groups (late-October team months): suppression was exercised


def test_no_email_address_or_employee_id_reaches_bi(demo_tenant):
    assert personal_data_in_bi(demo_tenant["url"]) == []

