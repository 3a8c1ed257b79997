"""The synthetic company follows its causal model: the ground truth the pipeline's results are checked against."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from statistics import mean

from simulator.company import (
    MOTIVATIONS,
    SURVEY_ITEMS,
    Company,
    counter_at,
    expected_click_through_rate,
    expected_engagement_rate,
    share_day_of_post,
    share_day_of_tweet,
)

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
COMPANY = Company(7, AS_OF)


def test_roster_and_content_follow_the_spec():
    assert [e.employee_id for e in COMPANY.employees] == [f"e-{n:04d}" for n in range(1, 61)]
    assert len({e.team for e in COMPANY.employees}) == 6
    assert all(math.isclose(sum(e.weights.values()), 1.0) for e in COMPANY.employees)
    assert mean(e.weights[e.dominant_motivation] for e in COMPANY.employees) > 0.45  # Dirichlet around the dominant
    assert {e.dominant_motivation for e in COMPANY.employees} == set(MOTIVATIONS)
    audiences = sorted(e.audience_size for e in COMPANY.employees)
    assert 300 <= audiences[len(audiences) // 2] <= 3000
    assert [c.content_id for c in COMPANY.contents] == [f"c-{n:03d}" for n in range(1, 21)]
    assert all(0.5 <= c.quality <= 1.5 for c in COMPANY.contents)


def test_post_totals_follow_the_causal_model():
    employees = {e.employee_id: e for e in COMPANY.employees}
    quality = {c.content_id: c.quality for c in COMPANY.contents}
    sums = defaultdict(float)
    by_dominant = defaultdict(lambda: [0, 0, 0])  # impressions, engagements, clicks
    for share in COMPANY.shares:
        totals, employee, q = share.totals, employees[share.employee_id], quality[share.content_id]
        engagements = totals.reactions + totals.comments + totals.reshares
        assert totals.members_reached == math.floor(0.8 * totals.impressions)
        sums["impressions"] += totals.impressions
        sums["expected_impressions"] += share.audience_size * 0.4 * q
        sums["engagements"] += engagements
        sums["expected_engagements"] += totals.impressions * expected_engagement_rate(employee.weights, q)
        sums["clicks"] += totals.link_clicks
        sums["expected_clicks"] += totals.impressions * expected_click_through_rate(employee.weights, q)
        sums["reactions"] += totals.reactions
        group = by_dominant[employee.dominant_motivation]
        group[0] += totals.impressions
        group[1] += engagements
        group[2] += totals.link_clicks
    for observed in ("impressions", "engagements", "clicks"):
        assert abs(sums[observed] / sums[f"expected_{observed}"] - 1) < 0.06, observed
    assert 0.65 < sums["reactions"] / sums["engagements"] < 0.75
    engagement_rate = {m: g[1] / g[0] for m, g in by_dominant.items()}
    click_rate = {m: g[2] / g[0] for m, g in by_dominant.items()}
    assert engagement_rate["good_news"] > 1.2 * engagement_rate["obligated"]
    assert click_rate["educate"] > 1.2 * click_rate["obligated"]


def test_counters_grow_with_age_towards_the_total():
    assert counter_at(1000, 0) == 0
    assert counter_at(1000, 1.5) == math.floor(1000 * (1 - math.exp(-1)))  # 632
    ages = [0.01 * n for n in range(3000)]
    readings = [counter_at(1000, age) for age in ages]
    assert readings == sorted(readings)
    assert readings[-1] == 999


def test_post_ids_encode_the_share_day_and_exist_only_once_shared():
    for share in COMPANY.network_shares("linkedin"):
        assert share_day_of_post(share.post_id) == share.shared_at.date()
    for share in COMPANY.network_shares("x"):
        assert share_day_of_tweet(share.post_id) == share.shared_at.date()
        assert COMPANY.find_tweet(share.post_id) == share
    day = AS_OF.date() - timedelta(days=3)
    first, last = COMPANY.shares_on(day)[0], COMPANY.shares_on(day)[-1]
    midway = Company(7, first.shared_at + (last.shared_at - first.shared_at) / 2)
    assert midway.find_post(first.post_id) == first
    assert midway.find_post(last.post_id) is None  # not shared yet at that instant
    assert share_day_of_post("urn:li:organization:123") is None


def test_survey_answers_reflect_the_true_weights():
    responses = COMPANY.survey_responses()
    assert 0.7 * 60 <= len(responses) <= 60
    assert len({r.employee_id for r in responses}) == len(responses)
    wave = COMPANY.survey_wave
    assert wave.opens_at == datetime(2026, 10, 12, tzinfo=UTC)  # 45 days before 2026-11-26, a Monday
    assert all(wave.opens_at <= r.submitted_at < wave.closes_at for r in responses)
    employees = {e.employee_id: e for e in COMPANY.employees}
    dominant_scores, other_scores = [], []
    for response in responses:
        assert set(response.answers.values()) <= {1, 2, 3, 4, 5}
        employee = employees[response.employee_id]
        for item in SURVEY_ITEMS:
            score = 6 - response.answers[item.ref] if item.reverse_coded else response.answers[item.ref]
            (dominant_scores if item.construct == employee.dominant_motivation else other_scores).append(score)
    assert mean(dominant_scores) > 4.3
    assert mean(dominant_scores) - mean(other_scores) > 1.5
    obligated = [r for r in responses if employees[r.employee_id].dominant_motivation == "obligated"]
    assert obligated and all(r.answers["obligated_2"] <= 2 for r in obligated)  # reverse-coded item


def test_the_wave_is_the_same_for_seven_consecutive_nights():
    # 45 days before 26 Nov … 2 Dec 2026 falls in the ISO week of Monday 12 Oct 2026 (week 42).
    nights = [Company(7, AS_OF + timedelta(days=n)) for n in range(7)]
    assert {c.survey_wave.form_id for c in nights} == {"motivation-2026w42"}
    assert all(c.survey_wave.responses == COMPANY.survey_wave.responses for c in nights)
    assert Company(7, AS_OF - timedelta(days=1)).survey_wave.form_id == "motivation-2026w41"
    assert Company(7, AS_OF + timedelta(days=7)).survey_wave.form_id == "motivation-2026w43"


def test_x_shares_come_on_top_of_unchanged_linkedin_shares():
    linkedin, x = COMPANY.network_shares("linkedin"), COMPANY.network_shares("x")
    # Pinned: the LinkedIn shares of seed 7 are what they were before X was simulated (other tests rely on them).
    assert len(linkedin) == 436
    assert (linkedin[0].share_id, linkedin[0].post_id) == ("sh-20261029-001", "urn:li:share:7521360589061221631")
    assert (linkedin[-1].share_id, linkedin[-1].post_id) == ("sh-20261125-017", "urn:li:ugcPost:7531505363354698005")
    assert len(x) == 73
    accounts = COMPANY.x_accounts
    assert 0.25 * 60 <= len(accounts) <= 0.55 * 60
    assert {share.employee_id for share in x} <= set(accounts)
    assert all(share.audience_size == accounts[share.employee_id].followers for share in x)
    by_employee_content = {(s.employee_id, s.content_id): s.tracking_link for s in linkedin}
    same_link = [s for s in x if (s.employee_id, s.content_id) in by_employee_content]
    assert same_link and all(s.tracking_link == by_employee_content[s.employee_id, s.content_id] for s in same_link)
    deleted = [share for share in x if COMPANY.is_deleted(share)]
    assert 1 <= len(deleted) <= 10
    timeline = COMPANY.x_timeline(accounts[x[-1].employee_id].user_id)
    assert x[-1] in timeline and not set(deleted) & set(timeline)
    assert [int(t.post_id) for t in timeline] == sorted((int(t.post_id) for t in timeline), reverse=True)
