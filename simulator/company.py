"""The seeded synthetic company behind every simulated source, and the causal model that drives its numbers.

Everything is a pure function of the seed and the instant `as_of` the company is observed at:
- the roster (employees, teams, true motivation weights, audience sizes) and the content pieces depend on the seed only;
- the shares of a calendar day depend on the seed and that day only, so a post keeps its identity and its lifetime
  totals whatever `as_of` is, and its cumulative counters can only grow when `as_of` moves forward;
- a survey wave depends on the seed and its opening day only; a response exists once its submission time has passed.

Post ids are built like LinkedIn's activity ids (the share's Unix time in milliseconds in the high bits), so the
simulator can find any post of its history from the URN alone, not only the posts of the current 28-day window.
Tweet ids are X snowflakes (milliseconds since X's epoch above 22 low bits) for the same reason.

Some employees also have an X account and share some content there (network `x`, post id = tweet id). Those
accounts and shares come from random streams of their own, so the LinkedIn shares of a seed are the same with or
without them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

MOTIVATIONS = ("obligated", "good_news", "proud", "educate")

#: Multipliers of the base engagement rate and click-through rate per unit of motivation weight (the ground truth).
ER_EFFECT = {"obligated": 0.5, "good_news": 1.3, "proud": 1.15, "educate": 0.9}
CTR_EFFECT = {"obligated": 0.6, "good_news": 1.0, "proud": 0.9, "educate": 1.5}
BASE_ENGAGEMENT_RATE = 0.03
BASE_CLICK_THROUGH_RATE = 0.01
IMPRESSIONS_PER_FOLLOWER = 0.4
MEMBERS_REACHED_PER_IMPRESSION = 0.8
ENGAGEMENT_SPLIT = {"reactions": 0.7, "comments": 0.2, "reshares": 0.1}
#: Counters reach 1 − e⁻¹ ≈ 63 % of their lifetime total after this many days.
COUNTER_TIME_CONSTANT_DAYS = 1.5

EMPLOYEE_COUNT = 60
CONTENT_COUNT = 20
SHARES_PER_EMPLOYEE_DAY = 0.25
SHARE_WINDOW_DAYS = 28
UGC_POST_FRACTION = 0.3
#: How far back the simulated LinkedIn knows posts (ingestion asks for posts up to 90 days old).
POST_HISTORY_DAYS = 366

#: Team → the motivation its members lean to (half of them have it as their dominant motivation).
TEAM_LEANINGS = {
    "sales": "educate",
    "marketing": "proud",
    "engineering": "good_news",
    "customer-success": "educate",
    "people": "good_news",
    "finance": "obligated",
}
TEAM_LEANING_PROBABILITY = 0.5
DIRICHLET_DOMINANT_ALPHA = 6.0
DIRICHLET_OTHER_ALPHA = 1.5
AUDIENCE_LOG_MEDIAN = math.log(950)
AUDIENCE_LOG_SIGMA = 0.58
CAMPAIGNS = ("autumn-launch", "customer-stories", "hiring-week")
NETWORK = "linkedin"

X_NETWORK = "x"
X_ACCOUNT_PROBABILITY = 0.4
X_SHARES_PER_ACCOUNT_DAY = 0.12
X_AUDIENCE_LOG_MEDIAN = math.log(700)
X_AUDIENCE_LOG_SIGMA = 0.7
#: Tweets their author deletes some days after sharing: a lookup then answers a partial error inside its 200.
X_DELETION_PROBABILITY = 0.05
X_DELETED_AFTER_DAYS = (1.0, 20.0)
#: Counters X shows besides the causal ones (not part of the causal model): quotes per engagement, bookmarks per
#: like, profile clicks per impression.
X_QUOTE_RATE = 0.05
X_BOOKMARK_RATE = 0.1
X_PROFILE_CLICK_RATE = 0.002
#: X snowflake ids: milliseconds since this instant (2010-11-04) above 22 low bits.
X_EPOCH_MS = 1288834974657

#: Tracking links (one per employee × content) count clicks from every source: the posts' link clicks, plus per day
#: a Poisson number from elsewhere (e-mail, chat, dark social) with this mean per platform link click of the day,
#: plus a trickle on any day the link has been shared in the last CLICK_HORIZON_DAYS.
OTHER_CLICKS_PER_PLATFORM_CLICK = 0.3
OTHER_CLICKS_TRICKLE_PER_DAY = 0.1
#: After this many days a post's link clicks are below 1e-8 of its total (counters saturate with τ = 1.5 days).
CLICK_HORIZON_DAYS = 30

#: The company's own LinkedIn page: it posts a content piece on about half the days; its posts reach a share of its
#: followers and draw clicks, likes, comments and reshares at these rates (× the content's quality).
PAGE_FOLLOWERS = 12_000
PAGE_POST_PROBABILITY = 0.5
PAGE_IMPRESSIONS_PER_FOLLOWER = 0.15
PAGE_UNIQUE_PER_IMPRESSION = 0.7
PAGE_RATES = {"clicks": 0.012, "likes": 0.02, "comments": 0.003, "shares": 0.002}

SURVEY_OPENS_DAYS_BEFORE = 45
SURVEY_SUBMISSION_DAYS = 14
SURVEY_RESPONSE_RATE = 0.85
LIKERT_NOISE_SIGMA = 0.5

SHARES_CSV_COLUMNS = (
    "share_id",
    "employee_id",
    "content_id",
    "network",
    "post_id",
    "shared_at",
    "tracking_link",
    "share_mode",
    "copy_edited",
    "campaign",
    "audience_size",
)

#: The HR roster export (`<drop_dir>/hr/roster_<day>.csv`, the full roster each night). Each team's first employee
#: leads it and manages its other members; from HR_HISTORY_START on, TEAM_MOVES_PER_MONTH employees (never a lead)
#: move to another team on a day of each month, so the roster is slowly changing.
ROSTER_CSV_COLUMNS = ("employee_id", "email", "team", "department", "manager", "location", "start_date")
TEAM_DEPARTMENTS = {
    "sales": "revenue",
    "marketing": "marketing",
    "engineering": "product",
    "customer-success": "revenue",
    "people": "people-operations",
    "finance": "finance",
}
LOCATIONS = ("Berlin", "Lisbon", "London", "Remote")
HR_HISTORY_START = date(2025, 1, 1)
TEAM_MOVES_PER_MONTH = 2
EMAIL_DOMAIN = "example.com"
_GIVEN_NAMES = (
    "ada", "ben", "chloe", "david", "elena", "farid", "grace", "hugo", "ines", "jonas", "kira", "liam",
    "maya", "nils", "olga", "pedro", "quinn", "rosa", "sami", "tara", "umar", "vera", "wim", "yara",
)
_FAMILY_NAMES = (
    "adler", "berg", "costa", "dahl", "evans", "fischer", "garcia", "haas", "ivanova", "jensen", "klein", "lopes",
    "moreau", "novak", "okafor", "petit", "quist", "rossi", "silva", "tanaka", "unger", "vogel", "weber", "zhou",
)

# Independent random streams, so that adding draws to one part never changes another part.
_ROSTER_STREAM, _CONTENT_STREAM, _SHARES_STREAM, _SURVEY_STREAM = 1, 2, 3, 4
_X_ACCOUNTS_STREAM, _X_SHARES_STREAM, _LINK_CLICKS_STREAM, _PAGE_STREAM = 21, 22, 23, 24
_HR_STREAM = 31
_POST_ID_RANDOM_BITS = 22
_ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class SurveyItem:
    ref: str
    construct: str
    reverse_coded: bool


SURVEY_ITEMS = tuple(
    SurveyItem(f"{construct}_{n}", construct, reverse_coded=(construct, n) == ("obligated", 2))
    for construct in MOTIVATIONS
    for n in (1, 2)
)


@dataclass(frozen=True)
class Employee:
    employee_id: str
    team: str
    audience_size: int
    dominant_motivation: str
    weights: Mapping[str, float]


@dataclass(frozen=True)
class Content:
    content_id: str
    quality: float


@dataclass(frozen=True)
class PostTotals:
    """Lifetime totals of one post; the counters the platform shows approach them with age."""

    impressions: int
    members_reached: int
    reactions: int
    comments: int
    reshares: int
    link_clicks: int


@dataclass(frozen=True)
class XPostTotals(PostTotals):
    """A tweet's lifetime totals: the causal ones (reactions = likes, comments = replies, reshares = retweets,
    link_clicks = URL link clicks) and the counters X shows besides them."""

    quotes: int
    bookmarks: int
    profile_clicks: int


@dataclass(frozen=True)
class PagePost:
    """A post of the company's LinkedIn page, with the lifetime totals its statistics approach."""

    post_urn: str
    content_id: str
    created_at: datetime
    totals: Mapping[str, int]  # impressions, unique_impressions, clicks, likes, comments, shares


@dataclass(frozen=True)
class XAccount:
    employee_id: str
    user_id: str
    username: str
    followers: int


@dataclass(frozen=True)
class Share:
    share_id: str
    employee_id: str
    content_id: str
    network: str
    post_id: str
    shared_at: datetime
    tracking_link: str
    share_mode: str
    copy_edited: bool
    campaign: str | None
    audience_size: int
    totals: PostTotals
    deleted_at: datetime | None = None  # when the author deleted the post (X only)

    def csv_row(self) -> dict[str, str]:
        return {
            "share_id": self.share_id,
            "employee_id": self.employee_id,
            "content_id": self.content_id,
            "network": self.network,
            "post_id": self.post_id,
            "shared_at": iso_utc(self.shared_at),
            "tracking_link": self.tracking_link,
            "share_mode": self.share_mode,
            "copy_edited": "true" if self.copy_edited else "false",
            "campaign": self.campaign or "",
            "audience_size": str(self.audience_size),
        }


@dataclass(frozen=True)
class SurveyResponse:
    token: str
    employee_id: str
    landed_at: datetime
    submitted_at: datetime
    platform: str
    user_agent: str
    network_id: str
    answers: Mapping[str, int]  # field ref → 1..5, as answered (reverse-coded items already flipped)


SURVEY_VENDORS = ("typeform", "surveymonkey", "qualtrics")


@dataclass(frozen=True)
class SurveyWave:
    form_id: str
    opens_at: datetime
    closes_at: datetime
    field_ids: Mapping[str, str]  # field ref → Typeform field id of this form
    responses: tuple[SurveyResponse, ...]  # every response the wave will ever get, in submission order


def iso_utc(instant: datetime) -> str:
    """`2026-11-25T14:03:22Z`: second precision, UTC, with `Z` (the form every simulated source uses)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_instant(value: datetime | date) -> datetime:
    """An aware UTC datetime; a naive datetime is taken as UTC and a date as its midnight UTC."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def counter_at(total: int, age_days: float) -> int:
    """The cumulative count a post shows `age_days` after it was shared: floor(total × (1 − e^(−age/τ)))."""
    if age_days <= 0:
        return 0
    return math.floor(total * (1 - math.exp(-age_days / COUNTER_TIME_CONSTANT_DAYS)))


def expected_engagement_rate(weights: Mapping[str, float], quality: float) -> float:
    return BASE_ENGAGEMENT_RATE * quality * sum(weights[m] * ER_EFFECT[m] for m in MOTIVATIONS)


def expected_click_through_rate(weights: Mapping[str, float], quality: float) -> float:
    return BASE_CLICK_THROUGH_RATE * quality * sum(weights[m] * CTR_EFFECT[m] for m in MOTIVATIONS)


def share_day_of_post(post_urn: str) -> date | None:
    """The UTC day a post was shared, read from the timestamp bits of its id; None if the URN is not a post."""
    kind, _, number = post_urn.rpartition(":")
    if kind not in ("urn:li:share", "urn:li:ugcPost") or not number.isdigit() or len(number) > 19:
        return None
    millis = int(number) >> _POST_ID_RANDOM_BITS
    try:
        return datetime.fromtimestamp(millis / 1000, UTC).date()
    except (OverflowError, ValueError, OSError):
        return None


def share_day_of_tweet(tweet_id: str) -> date | None:
    """The UTC day a tweet was posted, read from its snowflake id; None if it is not a tweet id."""
    if not tweet_id.isascii() or not tweet_id.isdigit() or len(tweet_id) > 19:
        return None
    millis = (int(tweet_id) >> _POST_ID_RANDOM_BITS) + X_EPOCH_MS
    try:
        return datetime.fromtimestamp(millis / 1000, UTC).date()
    except (OverflowError, ValueError, OSError):
        return None


def _rng(seed: int, stream: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, *key])


def _stable_code(length: int, *parts: object) -> str:
    """A short alphanumeric code that depends only on `parts` (used for ids that must be stable across runs)."""
    digest = int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest(), "big")
    chars = []
    for _ in range(length):
        digest, index = divmod(digest, len(_ALPHANUMERIC))
        chars.append(_ALPHANUMERIC[index])
    return "".join(chars)


def _random_code(rng: np.random.Generator, alphabet: str, length: int) -> str:
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=length))


@lru_cache(maxsize=16)
def _roster(seed: int) -> tuple[Employee, ...]:
    rng = _rng(seed, _ROSTER_STREAM)
    teams = list(TEAM_LEANINGS)
    employees = []
    for index in range(EMPLOYEE_COUNT):
        team = teams[index % len(teams)]
        if rng.random() < TEAM_LEANING_PROBABILITY:
            dominant = TEAM_LEANINGS[team]
        else:
            dominant = MOTIVATIONS[rng.integers(len(MOTIVATIONS))]
        alpha = [DIRICHLET_DOMINANT_ALPHA if m == dominant else DIRICHLET_OTHER_ALPHA for m in MOTIVATIONS]
        weights = dict(zip(MOTIVATIONS, (float(w) for w in rng.dirichlet(alpha)), strict=True))
        audience = int(np.clip(round(rng.lognormal(AUDIENCE_LOG_MEDIAN, AUDIENCE_LOG_SIGMA)), 100, 10_000))
        employees.append(Employee(f"e-{index + 1:04d}", team, audience, dominant, weights))
    return tuple(employees)


@lru_cache(maxsize=16)
def _contents(seed: int) -> tuple[Content, ...]:
    rng = _rng(seed, _CONTENT_STREAM)
    return tuple(Content(f"c-{i + 1:03d}", round(float(rng.uniform(0.5, 1.5)), 4)) for i in range(CONTENT_COUNT))


@lru_cache(maxsize=1024)
def _shares_on(seed: int, day: date) -> tuple[Share, ...]:
    """Every share made on one UTC day, in time order (independent of when the company is observed)."""
    rng = _rng(seed, _SHARES_STREAM, day.toordinal())
    contents = _contents(seed)
    midnight = datetime.combine(day, time(), UTC)
    drafts = []
    for employee in _roster(seed):
        for _ in range(rng.poisson(SHARES_PER_EMPLOYEE_DAY)):
            content = contents[rng.integers(len(contents))]
            millis_in_day = int(rng.integers(0, 86_400_000))
            shared_ms = int(midnight.timestamp()) * 1000 + millis_in_day
            post_number = (shared_ms << _POST_ID_RANDOM_BITS) | int(rng.integers(0, 2**_POST_ID_RANDOM_BITS))
            post_kind = "ugcPost" if rng.random() < UGC_POST_FRACTION else "share"
            share_mode = "scheduled" if rng.random() < 0.4 else "manual"
            copy_edited = bool(rng.random() < 0.35)
            campaign = CAMPAIGNS[rng.integers(len(CAMPAIGNS))] if rng.random() < 0.5 else None
            totals = _draw_totals(rng, employee.audience_size, employee.weights, content)
            drafts.append(
                (
                    millis_in_day,
                    dict(
                        employee_id=employee.employee_id,
                        content_id=content.content_id,
                        network=NETWORK,
                        post_id=f"urn:li:{post_kind}:{post_number}",
                        shared_at=midnight + timedelta(seconds=millis_in_day // 1000),
                        tracking_link=f"bit.ly/{_stable_code(7, seed, employee.employee_id, content.content_id)}",
                        share_mode=share_mode,
                        copy_edited=copy_edited,
                        campaign=campaign,
                        audience_size=employee.audience_size,
                        totals=totals,
                    ),
                )
            )
    drafts.sort(key=lambda draft: (draft[0], draft[1]["post_id"]))
    return tuple(
        Share(share_id=f"sh-{day:%Y%m%d}-{n:03d}", **fields) for n, (_, fields) in enumerate(drafts, start=1)
    )


def _draw_totals(
    rng: np.random.Generator, audience: int, weights: Mapping[str, float], content: Content
) -> PostTotals:
    """The causal model: audience and content quality drive impressions; motivation drives the rates."""
    impressions = int(rng.poisson(audience * IMPRESSIONS_PER_FOLLOWER * content.quality))
    engagement_rate = min(expected_engagement_rate(weights, content.quality), 1.0)
    click_through_rate = min(expected_click_through_rate(weights, content.quality), 1.0)
    engagements = int(rng.binomial(impressions, engagement_rate))
    reactions, comments, reshares = (int(n) for n in rng.multinomial(engagements, list(ENGAGEMENT_SPLIT.values())))
    link_clicks = int(rng.binomial(impressions, click_through_rate))
    members_reached = math.floor(MEMBERS_REACHED_PER_IMPRESSION * impressions)
    return PostTotals(impressions, members_reached, reactions, comments, reshares, link_clicks)


@lru_cache(maxsize=16)
def _x_accounts(seed: int) -> dict[str, XAccount]:
    """Employee id → X account, for the employees who have one (every employee's draws are made either way)."""
    rng = _rng(seed, _X_ACCOUNTS_STREAM)
    accounts = {}
    for employee in _roster(seed):
        has_account = rng.random() < X_ACCOUNT_PROBABILITY
        followers = int(np.clip(round(rng.lognormal(X_AUDIENCE_LOG_MEDIAN, X_AUDIENCE_LOG_SIGMA)), 50, 20_000))
        user_id = str(int(rng.integers(10**17, 10**18)))
        if has_account:
            username = f"{employee.team.replace('-', '_')}_{employee.employee_id[2:]}"
            accounts[employee.employee_id] = XAccount(employee.employee_id, user_id, username, followers)
    return accounts


@lru_cache(maxsize=1024)
def _x_shares_on(seed: int, day: date) -> tuple[Share, ...]:
    """Every share to X made on one UTC day, in time order; share ids `sh-<day>-x<n>`, post id = tweet id."""
    rng = _rng(seed, _X_SHARES_STREAM, day.toordinal())
    contents, accounts = _contents(seed), _x_accounts(seed)
    midnight = datetime.combine(day, time(), UTC)
    drafts = []
    for employee in _roster(seed):
        account = accounts.get(employee.employee_id)
        if account is None:
            continue
        for _ in range(rng.poisson(X_SHARES_PER_ACCOUNT_DAY)):
            content = contents[rng.integers(len(contents))]
            millis_in_day = int(rng.integers(0, 86_400_000))
            shared_ms = int(midnight.timestamp()) * 1000 + millis_in_day
            sequence = int(rng.integers(0, 2**_POST_ID_RANDOM_BITS))
            tweet_id = ((shared_ms - X_EPOCH_MS) << _POST_ID_RANDOM_BITS) | sequence
            shared_at = midnight + timedelta(seconds=millis_in_day // 1000)
            share_mode = "scheduled" if rng.random() < 0.4 else "manual"
            copy_edited = bool(rng.random() < 0.35)
            campaign = CAMPAIGNS[rng.integers(len(CAMPAIGNS))] if rng.random() < 0.5 else None
            totals = _draw_x_totals(rng, account.followers, employee.weights, content)
            deleted = rng.random() < X_DELETION_PROBABILITY
            deleted_after = timedelta(days=float(rng.uniform(*X_DELETED_AFTER_DAYS)))
            drafts.append(
                Share(
                    share_id="",
                    employee_id=employee.employee_id,
                    content_id=content.content_id,
                    network=X_NETWORK,
                    post_id=str(tweet_id),
                    shared_at=shared_at,
                    tracking_link=f"bit.ly/{_stable_code(7, seed, employee.employee_id, content.content_id)}",
                    share_mode=share_mode,
                    copy_edited=copy_edited,
                    campaign=campaign,
                    audience_size=account.followers,
                    totals=totals,
                    deleted_at=shared_at + deleted_after if deleted else None,
                )
            )
    drafts.sort(key=lambda share: (int(share.post_id) >> _POST_ID_RANDOM_BITS, share.post_id))
    return tuple(replace(share, share_id=f"sh-{day:%Y%m%d}-x{n:02d}") for n, share in enumerate(drafts, start=1))


def _draw_x_totals(
    rng: np.random.Generator, followers: int, weights: Mapping[str, float], content: Content
) -> XPostTotals:
    causal = _draw_totals(rng, followers, weights, content)
    engagements = causal.reactions + causal.comments + causal.reshares
    return XPostTotals(
        **asdict(causal),
        quotes=int(rng.binomial(engagements, X_QUOTE_RATE)),
        bookmarks=int(rng.binomial(causal.reactions, X_BOOKMARK_RATE)),
        profile_clicks=int(rng.binomial(causal.impressions, X_PROFILE_CLICK_RATE)),
    )


def organization_urn(seed: int) -> str:
    return f"urn:li:organization:{10_000_000 + int(_stable_code(6, seed, 'organization'), 36) % 90_000_000}"


@lru_cache(maxsize=1024)
def _page_posts_on(seed: int, day: date) -> tuple[PagePost, ...]:
    """The company page's post of one UTC day, if it posted that day."""
    rng = _rng(seed, _PAGE_STREAM, day.toordinal())
    posts = rng.random() < PAGE_POST_PROBABILITY
    content = _contents(seed)[rng.integers(CONTENT_COUNT)]
    millis_in_day = int(rng.integers(6 * 3_600_000, 18 * 3_600_000))  # office hours
    shared_ms = int(datetime.combine(day, time(), UTC).timestamp()) * 1000 + millis_in_day
    post_number = (shared_ms << _POST_ID_RANDOM_BITS) | int(rng.integers(0, 2**_POST_ID_RANDOM_BITS))
    kind = "ugcPost" if rng.random() < UGC_POST_FRACTION else "share"
    impressions = int(rng.poisson(PAGE_FOLLOWERS * PAGE_IMPRESSIONS_PER_FOLLOWER * content.quality))
    totals = {"impressions": impressions, "unique_impressions": math.floor(PAGE_UNIQUE_PER_IMPRESSION * impressions)}
    for name, rate in PAGE_RATES.items():
        totals[name] = int(rng.binomial(impressions, min(rate * content.quality, 1.0)))
    if not posts:
        return ()
    created_at = datetime.combine(day, time(), UTC) + timedelta(milliseconds=millis_in_day)
    return (PagePost(f"urn:li:{kind}:{post_number}", content.content_id, created_at, totals),)


@lru_cache(maxsize=1024)
def _shares_by_link_on(seed: int, day: date) -> dict[str, tuple[Share, ...]]:
    """Tracking link → the shares of one UTC day using it (both networks)."""
    by_link: dict[str, list[Share]] = {}
    for share in _shares_on(seed, day) + _x_shares_on(seed, day):
        by_link.setdefault(share.tracking_link, []).append(share)
    return {link: tuple(shares) for link, shares in by_link.items()}


def survey_opening_day(as_of: datetime) -> date:
    """The wave seen at `as_of` opened on the Monday of the week 45 days earlier.

    Snapping to a Monday keeps the same wave (same form id, same responses) for every night of a week.
    """
    day = as_of.date() - timedelta(days=SURVEY_OPENS_DAYS_BEFORE)
    return day - timedelta(days=day.weekday())


@lru_cache(maxsize=64)
def _survey_wave(seed: int, opens_on: date) -> SurveyWave:
    iso = opens_on.isocalendar()
    form_id = f"motivation-{iso.year}w{iso.week}"
    opens_at = datetime.combine(opens_on, time(), UTC)
    rng = _rng(seed, _SURVEY_STREAM, opens_on.toordinal())
    responses = []
    for employee in _roster(seed):
        if rng.random() >= SURVEY_RESPONSE_RATE:
            continue
        submitted_at = opens_at + timedelta(seconds=int(rng.integers(0, SURVEY_SUBMISSION_DAYS * 86_400)))
        mobile = bool(rng.random() < 0.4)
        responses.append(
            SurveyResponse(
                token=_random_code(rng, "0123456789abcdefghijklmnopqrstuvwxyz", 32),
                employee_id=employee.employee_id,
                landed_at=submitted_at - timedelta(seconds=int(rng.integers(60, 900))),
                submitted_at=submitted_at,
                platform="mobile" if mobile else "other",
                user_agent=_MOBILE_AGENT if mobile else _DESKTOP_AGENT,
                network_id=_random_code(rng, "0123456789abcdef", 10),
                answers=_likert_answers(rng, employee.weights),
            )
        )
    responses.sort(key=lambda r: (r.submitted_at, r.token))
    field_ids = {item.ref: _stable_code(12, form_id, item.ref) for item in SURVEY_ITEMS}
    return SurveyWave(form_id, opens_at, opens_at + timedelta(days=SURVEY_SUBMISSION_DAYS), field_ids, tuple(responses))


_DESKTOP_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0 Safari/537.36"
)
_MOBILE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
)


def _likert_answers(rng: np.random.Generator, weights: Mapping[str, float]) -> dict[str, int]:
    """Answer ≈ clamp(round(1 + 4 × w_m / max_w + N(0, σ)), 1, 5); reverse-coded items are answered 6 − that."""
    max_weight = max(weights.values())
    answers = {}
    for item in SURVEY_ITEMS:
        latent = 1 + 4 * weights[item.construct] / max_weight + rng.normal(0, LIKERT_NOISE_SIGMA)
        answer = min(max(math.floor(latent + 0.5), 1), 5)
        answers[item.ref] = 6 - answer if item.reverse_coded else answer
    return answers


def write_shares_files(drop_dir: Path, shares_by_day: Mapping[date, Sequence[Share]]) -> list[Path]:
    """Write `<drop_dir>/advocacy/shares_<day>.csv` per day (header only when the day has no shares).

    Each file is written to a temporary name and renamed, so a reader never sees a half-written export.
    """
    folder = Path(drop_dir) / "advocacy"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for day, shares in sorted(shares_by_day.items()):
        path = folder / f"shares_{day.isoformat()}.csv"
        partial = path.with_name(f".{path.name}.partial")
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=SHARES_CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(share.csv_row() for share in shares)
        os.replace(partial, path)
        written.append(path)
    return written


@dataclass(frozen=True)
class RosterEntry:
    """One employee's line of the HR roster on one day."""

    employee_id: str
    email: str
    team: str
    department: str
    manager: str | None  # the team lead's employee id; None for a lead
    location: str
    start_date: date

    def csv_row(self) -> dict[str, str]:
        return {
            "employee_id": self.employee_id,
            "email": self.email,
            "team": self.team,
            "department": self.department,
            "manager": self.manager or "",
            "location": self.location,
            "start_date": self.start_date.isoformat(),
        }


@lru_cache(maxsize=16)
def _hr_records(seed: int) -> dict[str, tuple[str, str, date]]:
    """Employee id → (email, location, start date): the HR facts that never change. Everyone joined before
    HR_HISTORY_START, so the roster is the same set of people on every day."""
    rng = _rng(seed, _HR_STREAM)
    records, emails = {}, set()
    for employee in _roster(seed):
        given = _GIVEN_NAMES[rng.integers(len(_GIVEN_NAMES))]
        family = _FAMILY_NAMES[rng.integers(len(_FAMILY_NAMES))]
        location = LOCATIONS[rng.integers(len(LOCATIONS))]
        start_date = HR_HISTORY_START - timedelta(days=int(rng.integers(30, 9 * 365)))
        local, n = f"{given}.{family}", 1
        while f"{local}@{EMAIL_DOMAIN}" in emails:
            n += 1
            local = f"{given}.{family}{n}"
        emails.add(f"{local}@{EMAIL_DOMAIN}")
        records[employee.employee_id] = (f"{local}@{EMAIL_DOMAIN}", location, start_date)
    return records


def _team_leads(seed: int) -> dict[str, str]:
    """Team → its lead: the team's first employee."""
    leads: dict[str, str] = {}
    for employee in _roster(seed):
        leads.setdefault(employee.team, employee.employee_id)
    return leads


@lru_cache(maxsize=512)
def _teams_at_month_start(seed: int, month: date) -> tuple[tuple[str, str], ...]:
    """(employee id, team) of everyone on the first day of `month`, before that day's moves."""
    if month <= HR_HISTORY_START:
        return tuple((employee.employee_id, employee.team) for employee in _roster(seed))
    previous = (month - timedelta(days=1)).replace(day=1)
    teams = dict(_teams_at_month_start(seed, previous))
    for _, employee_id, team in _team_moves(seed, previous):
        teams[employee_id] = team
    return tuple(teams.items())


@lru_cache(maxsize=512)
def _team_moves(seed: int, month: date) -> tuple[tuple[date, str, str], ...]:
    """The team moves of one calendar month, as (effective day, employee id, new team), in day order."""
    if month < HR_HISTORY_START:
        return ()
    rng = _rng(seed, _HR_STREAM, month.toordinal())
    teams = dict(_teams_at_month_start(seed, month))
    leads = set(_team_leads(seed).values())
    candidates = [employee_id for employee_id in teams if employee_id not in leads]
    days_in_month = ((month + timedelta(days=32)).replace(day=1) - month).days
    moves = []
    for index in rng.choice(len(candidates), size=TEAM_MOVES_PER_MONTH, replace=False):
        employee_id = candidates[int(index)]
        other_teams = [team for team in TEAM_LEANINGS if team != teams[employee_id]]
        day = month + timedelta(days=int(rng.integers(days_in_month)))
        moves.append((day, employee_id, other_teams[rng.integers(len(other_teams))]))
    return tuple(sorted(moves))


def roster_on(seed: int, day: date) -> tuple[RosterEntry, ...]:
    """The full roster as HR exports it for `day` (moves effective on `day` included), in employee id order."""
    month = day.replace(day=1)
    teams = dict(_teams_at_month_start(seed, month))
    for move_day, employee_id, team in _team_moves(seed, month):
        if move_day <= day:
            teams[employee_id] = team
    leads, records = _team_leads(seed), _hr_records(seed)
    entries = []
    for employee_id, team in sorted(teams.items()):
        email, location, start_date = records[employee_id]
        manager = None if leads[team] == employee_id else leads[team]
        entries.append(RosterEntry(employee_id, email, team, TEAM_DEPARTMENTS[team], manager, location, start_date))
    return tuple(entries)


def write_roster_files(drop_dir: Path, rosters_by_day: Mapping[date, Sequence[RosterEntry]]) -> list[Path]:
    """Write `<drop_dir>/hr/roster_<day>.csv` per day, each via a temporary name (never seen half-written)."""
    folder = Path(drop_dir) / "hr"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for day, entries in sorted(rosters_by_day.items()):
        path = folder / f"roster_{day.isoformat()}.csv"
        partial = path.with_name(f".{path.name}.partial")
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=ROSTER_CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(entry.csv_row() for entry in entries)
        os.replace(partial, path)
        written.append(path)
    return written


class Company:
    """The synthetic company as observed at the instant `as_of` (UTC)."""

    def __init__(self, seed: int, as_of: datetime | date, survey_opens_on: date | None = None):
        self.seed = seed
        self.as_of = utc_instant(as_of)
        self.employees = _roster(seed)
        self.contents = _contents(seed)
        self._survey_opens_on = survey_opens_on or survey_opening_day(self.as_of)

    @property
    def share_days(self) -> list[date]:
        """The complete UTC days of the share window: the 28 days before `as_of`'s date."""
        last = self.as_of.date()
        return [last - timedelta(days=n) for n in range(SHARE_WINDOW_DAYS, 0, -1)]

    def shares_on(self, day: date) -> tuple[Share, ...]:
        """Every share of one day, LinkedIn and X, in time order."""
        return tuple(
            sorted(_shares_on(self.seed, day) + _x_shares_on(self.seed, day), key=lambda s: (s.shared_at, s.share_id))
        )

    @cached_property
    def shares(self) -> tuple[Share, ...]:
        """The shares of the window, i.e. exactly what the shares export holds (every network)."""
        return tuple(share for day in self.share_days for share in self.shares_on(day))

    def network_shares(self, network: str) -> tuple[Share, ...]:
        """The window's shares to one network (`linkedin` or `x`)."""
        return tuple(share for share in self.shares if share.network == network)

    @property
    def x_accounts(self) -> dict[str, XAccount]:
        """Employee id → X account, for the employees who have one."""
        return _x_accounts(self.seed)

    def find_tweet(self, tweet_id: str) -> Share | None:
        """The share behind a tweet id, if it was posted before `as_of` within the history (deleted or not)."""
        day = share_day_of_tweet(tweet_id)
        if day is None or not self.as_of.date() - timedelta(days=POST_HISTORY_DAYS) <= day <= self.as_of.date():
            return None
        for share in _x_shares_on(self.seed, day):
            if share.post_id == tweet_id:
                return share if share.shared_at < self.as_of else None
        return None

    def is_deleted(self, share: Share) -> bool:
        return share.deleted_at is not None and share.deleted_at <= self.as_of

    def x_timeline(self, user_id: str) -> list[Share] | None:
        """The tweets of an X account that exist at `as_of` (not deleted), newest first; None for an unknown user."""
        account = next((a for a in self.x_accounts.values() if a.user_id == user_id), None)
        if account is None:
            return None
        first = self.as_of.date() - timedelta(days=POST_HISTORY_DAYS)
        tweets = [
            share
            for n in range(POST_HISTORY_DAYS + 1)
            for share in _x_shares_on(self.seed, first + timedelta(days=n))
            if share.employee_id == account.employee_id and share.shared_at < self.as_of and not self.is_deleted(share)
        ]
        return sorted(tweets, key=lambda share: int(share.post_id), reverse=True)

    @property
    def organization_urn(self) -> str:
        return organization_urn(self.seed)

    def page_posts(self, since: date) -> list[PagePost]:
        """The company page's posts from `since` up to `as_of`, newest first."""
        days = (self.as_of.date() - since).days
        posts = [
            post
            for n in range(max(days, -1) + 1)
            for post in _page_posts_on(self.seed, since + timedelta(days=n))
            if post.created_at < self.as_of
        ]
        return sorted(posts, key=lambda post: post.created_at, reverse=True)

    def page_post(self, post_urn: str) -> PagePost | None:
        day = share_day_of_post(post_urn)
        if day is None:
            return None
        posts = _page_posts_on(self.seed, day)
        return next((p for p in posts if p.post_urn == post_urn and p.created_at < self.as_of), None)

    def page_post_counters(self, post: PagePost, at: datetime | None = None) -> dict[str, int]:
        """A page post's cumulative statistics at `at` (default and at most `as_of`)."""
        moment = min(at or self.as_of, self.as_of)
        age_days = (moment - post.created_at).total_seconds() / 86_400
        return {name: counter_at(total, age_days) for name, total in post.totals.items()}

    @cached_property
    def bitlinks(self) -> dict[str, tuple[str, str]]:
        """Every tracking link the advocacy platform created (`bit.ly/<hash>`) → (employee id, content id)."""
        return {
            f"bit.ly/{_stable_code(7, self.seed, e.employee_id, c.content_id)}": (e.employee_id, c.content_id)
            for e in self.employees
            for c in self.contents
        }

    def tracking_link_clicks(self, bitlink: str, day: date) -> int:
        """Clicks on a tracking link during the UTC `day` as counted at `as_of` (a day still running counts so far).

        The platforms' link clicks of that day from every share using the link, plus clicks from other sources —
        so never fewer than the platforms count, and never decreasing as `as_of` moves on.
        """
        return self.tracking_link_clicks_by_day(bitlink, [day])[day]

    def tracking_link_clicks_by_day(self, bitlink: str, days: Sequence[date]) -> dict[date, int]:
        """`tracking_link_clicks` for several days, gathering the link's shares once."""
        if not days:
            return {}
        first, last = min(days), max(days)
        shares = [
            share
            for n in range((last - first).days + CLICK_HORIZON_DAYS + 1)
            for share in _shares_by_link_on(self.seed, last - timedelta(days=n)).get(bitlink, ())
        ]
        link_key = int.from_bytes(hashlib.blake2b(bitlink.encode(), digest_size=8).digest(), "big")
        return {day: self._link_clicks_on(day, shares, link_key) for day in days}

    def _link_clicks_on(self, day: date, link_shares: list[Share], link_key: int) -> int:
        start = datetime.combine(day, time(), UTC)
        end = min(start + timedelta(days=1), self.as_of)
        if end <= start:
            return 0
        platform = platform_full_day = 0
        in_use = False
        for share in link_shares:
            if not start - timedelta(days=CLICK_HORIZON_DAYS) <= share.shared_at < start + timedelta(days=1):
                continue
            in_use = True
            clicks, age_at_start = share.totals.link_clicks, (start - share.shared_at).total_seconds() / 86_400
            before = counter_at(clicks, age_at_start)
            platform_full_day += counter_at(clicks, age_at_start + 1) - before
            if share.shared_at < end:
                platform += counter_at(clicks, (end - share.shared_at).total_seconds() / 86_400) - before
        mean = OTHER_CLICKS_PER_PLATFORM_CLICK * platform_full_day + OTHER_CLICKS_TRICKLE_PER_DAY * in_use
        other_full_day = int(_rng(self.seed, _LINK_CLICKS_STREAM, link_key, day.toordinal()).poisson(mean))
        elapsed = (end - start).total_seconds() / 86_400
        return platform + math.floor(other_full_day * elapsed)

    def find_post(self, post_urn: str) -> Share | None:
        """The share behind a post URN, if that post exists at `as_of` (shared before it, within the history)."""
        day = share_day_of_post(post_urn)
        if day is None or not self.as_of.date() - timedelta(days=POST_HISTORY_DAYS) <= day <= self.as_of.date():
            return None
        for share in self.shares_on(day):
            if share.post_id == post_urn:
                return share if share.shared_at < self.as_of else None
        return None

    def counters(self, share: Share) -> PostTotals:
        """The cumulative counters of a post as the platform shows them at `as_of`."""
        age_days = (self.as_of - share.shared_at).total_seconds() / 86_400
        counters = {name: counter_at(total, age_days) for name, total in asdict(share.totals).items()}
        return type(share.totals)(**counters)

    @cached_property
    def survey_wave(self) -> SurveyWave:
        return _survey_wave(self.seed, self._survey_opens_on)

    def survey_waves_for(self, vendor: str) -> tuple[SurveyWave, ...]:
        """The waves run on one survey vendor (`typeform`, `surveymonkey` or `qualtrics`) seen at `as_of`."""
        if vendor not in SURVEY_VENDORS:
            raise ValueError(f"unknown survey vendor {vendor!r}")
        return (self.survey_wave,)

    @property
    def form_ids(self) -> list[str]:
        return [wave.form_id for wave in self.survey_waves_for("typeform")]

    def survey_responses(self) -> list[SurveyResponse]:
        """Responses submitted before `as_of` (including those the API does not show yet because of its lag)."""
        return [r for r in self.survey_wave.responses if r.submitted_at < self.as_of]

    def ground_truth(self) -> dict:
        wave = self.survey_wave
        shares = self.shares
        counters_by_network = {
            network: [asdict(self.counters(share)) for share in shares if share.network == network]
            for network in (NETWORK, X_NETWORK)
        }
        counters = counters_by_network[NETWORK]
        return {
            "seed": self.seed,
            "as_of": iso_utc(self.as_of),
            "ER_EFFECT": ER_EFFECT,
            "CTR_EFFECT": CTR_EFFECT,
            "base_rates": {
                "engagement_rate": BASE_ENGAGEMENT_RATE,
                "click_through_rate": BASE_CLICK_THROUGH_RATE,
                "impressions_per_follower": IMPRESSIONS_PER_FOLLOWER,
                "members_reached_per_impression": MEMBERS_REACHED_PER_IMPRESSION,
                "engagement_split": ENGAGEMENT_SPLIT,
                "counter_time_constant_days": COUNTER_TIME_CONSTANT_DAYS,
                "shares_per_employee_day": SHARES_PER_EMPLOYEE_DAY,
                "survey_response_rate": SURVEY_RESPONSE_RATE,
                "likert_noise_sigma": LIKERT_NOISE_SIGMA,
            },
            "counts": {
                "employees": len(self.employees),
                "teams": len(TEAM_LEANINGS),
                "contents": len(self.contents),
                "shares": len(shares),
                "shares_by_network": {network: len(c) for network, c in counters_by_network.items()},
                "x_accounts": len(self.x_accounts),
                "x_deleted_posts": sum(1 for share in shares if self.is_deleted(share)),
                "respondents": len(self.survey_responses()),
            },
            "share_window": {"first_day": self.share_days[0].isoformat(), "last_day": self.share_days[-1].isoformat()},
            # LinkedIn's, as before X was simulated; every network's (X with its extra counters) below.
            "window_counters_as_of": {f.name: sum(c[f.name] for c in counters) for f in fields(PostTotals)},
            "window_counters_as_of_by_network": {
                network: {name: sum(c[name] for c in rows) for name in (rows[0] if rows else {})}
                for network, rows in counters_by_network.items()
            },
            "survey": {
                "form_ids": self.form_ids,
                "opens_at": iso_utc(wave.opens_at),
                "closes_at": iso_utc(wave.closes_at),
                "items": [asdict(item) for item in SURVEY_ITEMS],
            },
            "employees": [
                {
                    "employee_id": e.employee_id,
                    "team": e.team,
                    "audience_size": e.audience_size,
                    "dominant_motivation": e.dominant_motivation,
                    "weights": dict(e.weights),
                    "x_account": asdict(self.x_accounts[e.employee_id]) if e.employee_id in self.x_accounts else None,
                }
                for e in self.employees
            ],
            "contents": [asdict(c) for c in self.contents],
        }

    def write_ground_truth(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.ground_truth(), indent=2) + "\n", encoding="utf-8")
        return path

    def write_shares_drop(self, drop_dir: Path) -> list[Path]:
        """The advocacy platform's export: one CSV per day of the window."""
        return write_shares_files(drop_dir, {day: self.shares_on(day) for day in self.share_days})

    def roster_on(self, day: date) -> tuple[RosterEntry, ...]:
        return roster_on(self.seed, day)

    def write_roster_drop(self, drop_dir: Path) -> list[Path]:
        """The HR roster export: the full roster for each day of the share window."""
        return write_roster_files(drop_dir, {day: self.roster_on(day) for day in self.share_days})
