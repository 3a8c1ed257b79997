"""The simulator speaks the documented Bitly v4 clicks contract over real HTTP, failures included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from simulator.company import Company
from simulator.server import start

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
TOKEN = "bitly-simulator-test-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
REFERENCE = "2026-11-26T00%3A00%3A00%2B0000"  # 2026-11-26T00:00:00+0000, URL-encoded as Bitly requires


def clicks(http, sim, bitlink, query="unit=day&units=7&unit_reference=" + REFERENCE, headers=HEADERS):
    return http.get(f"{sim.bitly_base_url}/bitlinks/{bitlink}/clicks?{query}", headers=headers, timeout=5)


def busy_link(company):
    """A tracking link shared on both networks, so it gathers clicks from LinkedIn and X posts."""
    networks: dict[str, set] = {}
    for share in company.shares:
        networks.setdefault(share.tracking_link, set()).add(share.network)
    return next(link for link, seen in networks.items() if seen == {"linkedin", "x"})


def test_daily_buckets_most_recent_first_for_the_days_before_the_reference(sim, http):
    link = busy_link(sim.company)
    body = clicks(http, sim, link, "unit=day&units=28&unit_reference=" + REFERENCE).json()
    assert (body["unit"], body["units"], body["unit_reference"]) == ("day", 28, "2026-11-26T00:00:00+0000")
    days = [AS_OF.date() - timedelta(days=n) for n in range(1, 29)]
    assert [bucket["date"] for bucket in body["link_clicks"]] == [f"{day}T00:00:00+0000" for day in days]
    assert [bucket["clicks"] for bucket in body["link_clicks"]] == [
        sim.company.tracking_link_clicks(link, day) for day in days
    ]


def test_a_tracking_link_counts_at_least_the_link_clicks_of_every_post_using_it(sim, http):
    first_day = AS_OF.date() - timedelta(days=28)
    for link in sorted({share.tracking_link for share in sim.company.shares})[:40]:
        shares = [share for share in sim.company.shares if share.tracking_link == link]
        tracked = sum(b["clicks"] for b in clicks(http, sim, link, "unit=day&units=35").json()["link_clicks"])
        in_window = [share for share in shares if share.shared_at.date() >= first_day]
        platform = sum(sim.company.counters(share).link_clicks for share in in_window)
        assert tracked >= platform


def test_unit_reference_must_be_url_encoded(sim, http):
    link = busy_link(sim.company)
    response = clicks(http, sim, link, "unit=day&units=7&unit_reference=2026-11-26T00:00:00+0000")  # `+` → space
    assert response.status_code == 400
    body = response.json()
    assert (body["message"], body["resource"]) == ("INVALID_ARG_UNIT_REFERENCE", "bitlinks")
    assert body["errors"][0]["field"] == "unit_reference"


def test_the_bitlink_has_no_scheme_and_unknown_links_are_404(sim, http):
    link = busy_link(sim.company)
    assert clicks(http, sim, link.replace("/", "%2F")).status_code == 200
    for wrong in (f"https://{link}", "bit.ly/zzzzzzz"):
        response = clicks(http, sim, wrong)
        assert (response.status_code, response.json()["message"]) == (404, "NOT_FOUND")


def test_a_wrong_token_is_403_without_a_rate_limit_reason(sim, http):
    response = clicks(http, sim, busy_link(sim.company), headers={"Authorization": "Bearer nope"})
    assert (response.status_code, response.json()["message"]) == (403, "FORBIDDEN")
    assert "X-Ratelimit-Reason" not in response.headers


def test_monthly_quota_is_429_and_the_minute_limit_is_403_with_a_reason(http, tmp_path):
    with start(AS_OF, drop_dir=tmp_path / "a", token=TOKEN, bitly_monthly_quota=1) as monthly:
        link = busy_link(monthly.company)
        assert clicks(http, monthly, link).status_code == 200
        over = clicks(http, monthly, link)
        assert (over.status_code, over.json()["message"]) == (429, "MONTHLY_LIMIT_EXCEEDED")
    with start(AS_OF, drop_dir=tmp_path / "b", token=TOKEN, bitly_rate_limit=(1, 60.0)) as per_minute:
        assert clicks(http, per_minute, link).status_code == 200
        over = clicks(http, per_minute, link)
        assert (over.status_code, over.json()["message"]) == (403, "FORBIDDEN")
        assert over.headers["X-Ratelimit-Reason"] == "RATE_LIMIT_PER_MINUTE"


def test_a_running_day_counts_its_clicks_so_far_and_no_day_ever_decreases():
    link = busy_link(Company(7, AS_OF))
    days = [AS_OF.date() - timedelta(days=n) for n in range(0, 8)]
    readings = [
        [Company(7, AS_OF + timedelta(hours=hours)).tracking_link_clicks(link, day) for day in days]
        for hours in (0, 12, 72)
    ]
    for earlier, later in pairwise(readings):
        assert all(a <= b for a, b in zip(earlier, later, strict=True))
    assert readings[0][0] == 0  # as_of's own day has not begun yet
    assert Company(7, AS_OF).tracking_link_clicks(link, date(2020, 1, 1)) == 0
