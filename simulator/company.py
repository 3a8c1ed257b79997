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

from sharewhy.settings import MOTIVATION_CONSTRUCTS

#: The survey's motivation constructs (the project's one list, dbt var `motivation_constructs`).
MOTIVATIONS = MOTIVATION_CONSTRUCTS

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

#: Survey waves open every SURVEY_WAVE_INTERVAL_DAYS from SURVEY_CALENDAR_START (a Monday) and take submissions for
#: SURVEY_SUBMISSION_DAYS; the company observed at `as_of` shows the last SURVEY_WAVES_SEEN waves opened before it.
#: Wave k runs on SURVEY_VENDORS[k % 3], so the last three waves are one on each vendor.
SURVEY_CALENDAR_START = date(2025, 1, 6)
SURVEY_WAVE_INTERVAL_DAYS = 42
SURVEY_WAVES_SEEN = 3
SURVEY_SUBMISSION_DAYS = 14
SURVEY_RESPONSE_RATE = 0.85
LIKERT_NOISE_SIGMA = 0.5
#: Survey noise (World.survey_noise): each respondent's acquiescence (agreeing with every item) is N(0, σ) scale
#: points; a share of respondents skip items; a share of answers arrive after the wave closed.
ACQUIESCENCE_SIGMA = 0.5
PARTIAL_RESPONSE_PROBABILITY = 0.15
LATE_ANSWER_PROBABILITY = 0.1
LATE_ANSWER_DAYS = 10

#: Content types and the motivation each appeals to (World.content_confounding: sharers pick content of their
#: primary motivation's type CONTENT_APPEAL times as often, and the types differ in quality).
CONTENT_TYPES = {"policy": "obligated", "company_news": "good_news", "culture": "proud", "product_education": "educate"}
CONTENT_TYPE_QUALITY = {
    "policy": (0.5, 0.8),
    "company_news": (1.0, 1.5),
    "culture": (0.9, 1.4),
    "product_education": (0.6, 1.1),
}
CONTENT_APPEAL = 3.0
#: World.nudges_reach_obligated: the share of shares made in a nudge campaign, by whether the sharer's primary
#: motivation is `obligated`, and how a nudged share's engagement and clicks compare with a self-initiated one.
NUDGE_PROBABILITY = {"obligated": 0.8, "other": 0.3}
NUDGED_EFFECT = 0.85

#: The export's columns; the last two (`SHARES_CSV_CONTENT_COLUMNS`) are optional: older exports lack them.
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
    "content_title",
    "content_type",
)
SHARES_CSV_CONTENT_COLUMNS = ("content_title", "content_type")

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
    "ada",
    "ben",
    "chloe",
    "david",
    "elena",
    "farid",
    "grace",
    "hugo",
    "ines",
    "jonas",
    "kira",
    "liam",
    "maya",
    "nils",
    "olga",
    "pedro",
    "quinn",
    "rosa",
    "sami",
    "tara",
    "umar",
    "vera",
    "wim",
    "yara",
)
_FAMILY_NAMES = (
    "adler",
    "berg",
    "costa",
    "dahl",
    "evans",
    "fischer",
    "garcia",
    "haas",
    "ivanova",
    "jensen",
    "klein",
    "lopes",
    "moreau",
    "novak",
    "okafor",
    "petit",
    "quist",
    "rossi",
    "silva",
    "tanaka",
    "unger",
    "vogel",
    "weber",
    "zhou",
)

# Independent random streams, so that adding draws to one part never changes another part.
_ROSTER_STREAM, _CONTENT_STREAM, _SHARES_STREAM, _SURVEY_STREAM = 1, 2, 3, 4
_X_ACCOUNTS_STREAM, _X_SHARES_STREAM, _LINK_CLICKS_STREAM, _PAGE_STREAM = 21, 22, 23, 24
_HR_STREAM = 31
_SURVEY_NOISE_STREAM = 41
_POST_ID_RANDOM_BITS = 22
_ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class World:
    """How the company's numbers are generated. Each flag is one mechanism an estimator must survive; the default
    is the demo tenant's world. Every world keeps the same survey instrument and contract-true APIs.

    - effect `mix`: a share's rates are the base rates × Σ_m weight_m × effect_m (every motivation of the sharer
      counts by its weight); `primary`: only the sharer's primary (largest-weight) motivation's effect counts.
    - content_confounding: content pieces have a type appealing to one motivation, sharers pick their motivation's
      type more often, and types differ in quality, so a naive comparison mixes content with motivation.
    - nudges_reach_obligated: nudge campaigns reach obligated sharers most, and nudged shares engage less.
    - survey_noise: acquiescence bias, partial responses (skipped items) and answers after the wave closed, on top
      of the Likert noise and the reverse-coded item every world has.
    """

    effect: str = "mix"
    content_confounding: bool = False
    nudges_reach_obligated: bool = False
    survey_noise: bool = False
    employees: int = EMPLOYEE_COUNT

    def __post_init__(self) -> None:
        if self.effect not in ("mix", "primary"):
            raise ValueError(f"World.effect must be 'mix' or 'primary', not {self.effect!r}")


DEFAULT_WORLD = World()


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
    dominant_motivation: str  # the Dirichlet's favoured motivation (drawn first)
    weights: Mapping[str, float]

    @property
    def primary_motivation(self) -> str:
        """The motivation with the largest weight (usually, not always, the dominant one)."""
        return max(MOTIVATIONS, key=lambda m: self.weights[m])


@dataclass(frozen=True)
class Content:
    content_id: str
    quality: float
    content_type: str

    @property
    def title(self) -> str:
        """The title the platform shows: the type in words and the id, e.g. `Product education c-013`."""
        return f"{self.content_type.replace('_', ' ').capitalize()} {self.content_id}"


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
    content_title: str = ""
    content_type: str = ""

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
            "content_title": self.content_title,
            "content_type": self.content_type,
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
    answers: Mapping[str, int]  # field ref → 1..5, as answered (reverse-coded items already flipped); skipped: absent


SURVEY_VENDORS = ("typeform", "surveymonkey", "qualtrics")


@dataclass(frozen=True)
class SurveyWave:
    form_id: str
    vendor: str
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
    """The cumulative count a post shows `age_days` after it was shared: total × (1 − e^(−age/τ)), rounded to the
    nearest count (never above the total, never falling with age). Rounded, not floored: a floor takes one count off
    nearly every young post, which is a large part of a low-rate post's count and would bias rates by rate level."""
    if age_days <= 0:
        return 0
    return math.floor(total * (1 - math.exp(-age_days / COUNTER_TIME_CONSTANT_DAYS)) + 0.5)


def share_multipliers(employee: Employee, nudged: bool, world: World) -> tuple[float, float]:
    """The multipliers of the base engagement and click-through rates a share gets besides its content's quality:
    its sharer's motivation effect (by the world's mechanism) × the nudge effect where the world has one."""
    if world.effect == "primary":
        er, ctr = ER_EFFECT[employee.primary_motivation], CTR_EFFECT[employee.primary_motivation]
    else:
        er = sum(employee.weights[m] * ER_EFFECT[m] for m in MOTIVATIONS)
        ctr = sum(employee.weights[m] * CTR_EFFECT[m] for m in MOTIVATIONS)
    nudge = NUDGED_EFFECT if world.nudges_reach_obligated and nudged else 1.0
    return er * nudge, ctr * nudge


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
def _roster(seed: int, world: World = DEFAULT_WORLD) -> tuple[Employee, ...]:
    rng = _rng(seed, _ROSTER_STREAM)
    teams = list(TEAM_LEANINGS)
    employees = []
    for index in range(world.employees):
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
def _contents(seed: int, world: World = DEFAULT_WORLD) -> tuple[Content, ...]:
    """Content pieces, their types in turn; quality uniform on [0.5, 1.5], or on the type's range when the world
    confounds content with motivation."""
    rng = _rng(seed, _CONTENT_STREAM)
    types = list(CONTENT_TYPES)
    contents = []
    for i in range(CONTENT_COUNT):
        content_type, unit = types[i % len(types)], float(rng.uniform(0.5, 1.5)) - 0.5
        low, high = CONTENT_TYPE_QUALITY[content_type] if world.content_confounding else (0.5, 1.5)
        contents.append(Content(f"c-{i + 1:03d}", round(low + (high - low) * unit, 4), content_type))
    return tuple(contents)


def _pick_content(rng: np.random.Generator, contents: Sequence[Content], employee: Employee, world: World) -> Content:
    if not world.content_confounding:
        return contents[rng.integers(len(contents))]
    appeal = np.array(
        [CONTENT_APPEAL if CONTENT_TYPES[c.content_type] == employee.primary_motivation else 1.0 for c in contents]
    )
    return contents[rng.choice(len(contents), p=appeal / appeal.sum())]


def _campaign(rng: np.random.Generator, employee: Employee, world: World) -> str | None:
    """The nudge campaign a share was made in, if any (half of the shares; by motivation in a nudging world)."""
    threshold = 0.5
    if world.nudges_reach_obligated:
        threshold = NUDGE_PROBABILITY["obligated" if employee.primary_motivation == "obligated" else "other"]
    return CAMPAIGNS[rng.integers(len(CAMPAIGNS))] if rng.random() < threshold else None


@lru_cache(maxsize=1024)
def _shares_on(seed: int, day: date, world: World = DEFAULT_WORLD) -> tuple[Share, ...]:
    """Every share made on one UTC day, in time order (independent of when the company is observed)."""
    rng = _rng(seed, _SHARES_STREAM, day.toordinal())
    contents = _contents(seed, world)
    midnight = datetime.combine(day, time(), UTC)
    drafts = []
    for employee in _roster(seed, world):
        for _ in range(rng.poisson(SHARES_PER_EMPLOYEE_DAY)):
            content = _pick_content(rng, contents, employee, world)
            millis_in_day = int(rng.integers(0, 86_400_000))
            shared_ms = int(midnight.timestamp()) * 1000 + millis_in_day
            post_number = (shared_ms << _POST_ID_RANDOM_BITS) | int(rng.integers(0, 2**_POST_ID_RANDOM_BITS))
            post_kind = "ugcPost" if rng.random() < UGC_POST_FRACTION else "share"
            share_mode = "scheduled" if rng.random() < 0.4 else "manual"
            copy_edited = bool(rng.random() < 0.35)
            campaign = _campaign(rng, employee, world)
            multipliers = share_multipliers(employee, campaign is not None, world)
            totals = _draw_totals(rng, employee.audience_size, multipliers, content)
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
                        content_title=content.title,
                        content_type=content.content_type,
                    ),
                )
            )
    drafts.sort(key=lambda draft: (draft[0], draft[1]["post_id"]))
    return tuple(Share(share_id=f"sh-{day:%Y%m%d}-{n:03d}", **fields) for n, (_, fields) in enumerate(drafts, start=1))


def _draw_totals(
    rng: np.random.Generator, audience: int, multipliers: tuple[float, float], content: Content
) -> PostTotals:
    """The causal model: audience and content quality drive impressions; quality × the share's multipliers
    (motivation, nudge: `share_multipliers`) drive the rates."""
    impressions = int(rng.poisson(audience * IMPRESSIONS_PER_FOLLOWER * content.quality))
    engagement_rate = min(BASE_ENGAGEMENT_RATE * content.quality * multipliers[0], 1.0)
    click_through_rate = min(BASE_CLICK_THROUGH_RATE * content.quality * multipliers[1], 1.0)
    engagements = int(rng.binomial(impressions, engagement_rate))
    reactions, comments, reshares = (int(n) for n in rng.multinomial(engagements, list(ENGAGEMENT_SPLIT.values())))
    link_clicks = int(rng.binomial(impressions, click_through_rate))
    members_reached = math.floor(MEMBERS_REACHED_PER_IMPRESSION * impressions)
    return PostTotals(impressions, members_reached, reactions, comments, reshares, link_clicks)


@lru_cache(maxsize=16)
def _x_accounts(seed: int, world: World = DEFAULT_WORLD) -> dict[str, XAccount]:
    """Employee id → X account, for the employees who have one (every employee's draws are made either way)."""
    rng = _rng(seed, _X_ACCOUNTS_STREAM)
    accounts = {}
    for employee in _roster(seed, world):
        has_account = rng.random() < X_ACCOUNT_PROBABILITY
        followers = int(np.clip(round(rng.lognormal(X_AUDIENCE_LOG_MEDIAN, X_AUDIENCE_LOG_SIGMA)), 50, 20_000))
        user_id = str(int(rng.integers(10**17, 10**18)))
        if has_account:
            username = f"{employee.team.replace('-', '_')}_{employee.employee_id[2:]}"
            accounts[employee.employee_id] = XAccount(employee.employee_id, user_id, username, followers)
    return accounts


@lru_cache(maxsize=1024)
def _x_shares_on(seed: int, day: date, world: World = DEFAULT_WORLD) -> tuple[Share, ...]:
    """Every share to X made on one UTC day, in time order; share ids `sh-<day>-x<n>`, post id = tweet id."""
    rng = _rng(seed, _X_SHARES_STREAM, day.toordinal())
    contents, accounts = _contents(seed, world), _x_accounts(seed, world)
    midnight = datetime.combine(day, time(), UTC)
    drafts = []
    for employee in _roster(seed, world):
        account = accounts.get(employee.employee_id)
        if account is None:
            continue
        for _ in range(rng.poisson(X_SHARES_PER_ACCOUNT_DAY)):
            content = _pick_content(rng, contents, employee, world)
            millis_in_day = int(rng.integers(0, 86_400_000))
            shared_ms = int(midnight.timestamp()) * 1000 + millis_in_day
            sequence = int(rng.integers(0, 2**_POST_ID_RANDOM_BITS))
            tweet_id = ((shared_ms - X_EPOCH_MS) << _POST_ID_RANDOM_BITS) | sequence
            shared_at = midnight + timedelta(seconds=millis_in_day // 1000)
            share_mode = "scheduled" if rng.random() < 0.4 else "manual"
            copy_edited = bool(rng.random() < 0.35)
            campaign = _campaign(rng, employee, world)
            multipliers = share_multipliers(employee, campaign is not None, world)
            totals = _draw_x_totals(rng, account.followers, multipliers, content)
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
                    content_title=content.title,
                    content_type=content.content_type,
                )
            )
    drafts.sort(key=lambda share: (int(share.post_id) >> _POST_ID_RANDOM_BITS, share.post_id))
    return tuple(replace(share, share_id=f"sh-{day:%Y%m%d}-x{n:02d}") for n, share in enumerate(drafts, start=1))


def _draw_x_totals(
    rng: np.random.Generator, followers: int, multipliers: tuple[float, float], content: Content
) -> XPostTotals:
    causal = _draw_totals(rng, followers, multipliers, content)
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
def _page_posts_on(seed: int, day: date, world: World = DEFAULT_WORLD) -> tuple[PagePost, ...]:
    """The company page's post of one UTC day, if it posted that day."""
    rng = _rng(seed, _PAGE_STREAM, day.toordinal())
    posts = rng.random() < PAGE_POST_PROBABILITY
    content = _contents(seed, world)[rng.integers(CONTENT_COUNT)]
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
def _shares_by_link_on(seed: int, day: date, world: World = DEFAULT_WORLD) -> dict[str, tuple[Share, ...]]:
    """Tracking link → the shares of one UTC day using it (both networks)."""
    by_link: dict[str, list[Share]] = {}
    for share in _shares_on(seed, day, world) + _x_shares_on(seed, day, world):
        by_link.setdefault(share.tracking_link, []).append(share)
    return {link: tuple(shares) for link, shares in by_link.items()}


def survey_wave_index(day: date) -> int:
    """The number of the last wave opened on or before `day` (wave 0 opened on SURVEY_CALENDAR_START)."""
    return (day - SURVEY_CALENDAR_START).days // SURVEY_WAVE_INTERVAL_DAYS


def survey_wave_opening_day(index: int) -> date:
    return SURVEY_CALENDAR_START + timedelta(days=index * SURVEY_WAVE_INTERVAL_DAYS)


def survey_vendor(index: int) -> str:
    return SURVEY_VENDORS[index % len(SURVEY_VENDORS)]


@lru_cache(maxsize=64)
def _survey_wave(seed: int, opens_on: date, vendor: str, world: World = DEFAULT_WORLD) -> SurveyWave:
    iso = opens_on.isocalendar()
    form_id = f"motivation-{iso.year}w{iso.week}"
    opens_at = datetime.combine(opens_on, time(), UTC)
    closes_at = opens_at + timedelta(days=SURVEY_SUBMISSION_DAYS)
    rng = _rng(seed, _SURVEY_STREAM, opens_on.toordinal())
    noise_rng = _rng(seed, _SURVEY_NOISE_STREAM, opens_on.toordinal())
    responses = []
    for employee in _roster(seed, world):
        if rng.random() >= SURVEY_RESPONSE_RATE:
            continue
        submitted_at = opens_at + timedelta(seconds=int(rng.integers(0, SURVEY_SUBMISSION_DAYS * 86_400)))
        mobile = bool(rng.random() < 0.4)
        token = _random_code(rng, "0123456789abcdefghijklmnopqrstuvwxyz", 32)
        landed_before = timedelta(seconds=int(rng.integers(60, 900)))
        network_id = _random_code(rng, "0123456789abcdef", 10)
        answers = _likert_answers(rng, employee.weights)
        if world.survey_noise:
            answers = _noisy_answers(noise_rng, employee.weights)
            if noise_rng.random() < LATE_ANSWER_PROBABILITY:
                submitted_at = closes_at + timedelta(seconds=int(noise_rng.integers(0, LATE_ANSWER_DAYS * 86_400)))
        responses.append(
            SurveyResponse(
                token=token,
                employee_id=employee.employee_id,
                landed_at=submitted_at - landed_before,
                submitted_at=submitted_at,
                platform="mobile" if mobile else "other",
                user_agent=_MOBILE_AGENT if mobile else _DESKTOP_AGENT,
                network_id=network_id,
                answers=answers,
            )
        )
    responses.sort(key=lambda r: (r.submitted_at, r.token))
    field_ids = {item.ref: _stable_code(12, form_id, item.ref) for item in SURVEY_ITEMS}
    return SurveyWave(form_id, vendor, opens_at, closes_at, field_ids, tuple(responses))


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


def _noisy_answers(rng: np.random.Generator, weights: Mapping[str, float]) -> dict[str, int]:
    """Survey noise: like `_likert_answers`, plus the respondent's acquiescence (added to every item as answered,
    so it pushes reverse-coded items the wrong way) and, for some respondents, one or two skipped items."""
    max_weight = max(weights.values())
    acquiescence = rng.normal(0, ACQUIESCENCE_SIGMA)
    answers = {}
    for item in SURVEY_ITEMS:
        trait = 1 + 4 * weights[item.construct] / max_weight + rng.normal(0, LIKERT_NOISE_SIGMA)
        as_meant = 6 - trait if item.reverse_coded else trait
        answers[item.ref] = min(max(math.floor(as_meant + acquiescence + 0.5), 1), 5)
    if rng.random() < PARTIAL_RESPONSE_PROBABILITY:
        for index in rng.choice(len(SURVEY_ITEMS), size=int(rng.integers(1, 3)), replace=False):
            del answers[SURVEY_ITEMS[int(index)].ref]
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
def _hr_records(seed: int, world: World = DEFAULT_WORLD) -> dict[str, tuple[str, str, date]]:
    """Employee id → (email, location, start date): the HR facts that never change. Everyone joined before
    HR_HISTORY_START, so the roster is the same set of people on every day."""
    rng = _rng(seed, _HR_STREAM)
    records, emails = {}, set()
    for employee in _roster(seed, world):
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


def _team_leads(seed: int, world: World = DEFAULT_WORLD) -> dict[str, str]:
    """Team → its lead: the team's first employee."""
    leads: dict[str, str] = {}
    for employee in _roster(seed, world):
        leads.setdefault(employee.team, employee.employee_id)
    return leads


@lru_cache(maxsize=512)
def _teams_at_month_start(seed: int, month: date, world: World = DEFAULT_WORLD) -> tuple[tuple[str, str], ...]:
    """(employee id, team) of everyone on the first day of `month`, before that day's moves."""
    if month <= HR_HISTORY_START:
        return tuple((employee.employee_id, employee.team) for employee in _roster(seed, world))
    previous = (month - timedelta(days=1)).replace(day=1)
    teams = dict(_teams_at_month_start(seed, previous, world))
    for _, employee_id, team in _team_moves(seed, previous, world):
        teams[employee_id] = team
    return tuple(teams.items())


@lru_cache(maxsize=512)
def _team_moves(seed: int, month: date, world: World = DEFAULT_WORLD) -> tuple[tuple[date, str, str], ...]:
    """The team moves of one calendar month, as (effective day, employee id, new team), in day order."""
    if month < HR_HISTORY_START:
        return ()
    rng = _rng(seed, _HR_STREAM, month.toordinal())
    teams = dict(_teams_at_month_start(seed, month, world))
    leads = set(_team_leads(seed, world).values())
    candidates = [employee_id for employee_id in teams if employee_id not in leads]
    days_in_month = ((month + timedelta(days=32)).replace(day=1) - month).days
    moves = []
    for index in rng.choice(len(candidates), size=TEAM_MOVES_PER_MONTH, replace=False):
        employee_id = candidates[int(index)]
        other_teams = [team for team in TEAM_LEANINGS if team != teams[employee_id]]
        day = month + timedelta(days=int(rng.integers(days_in_month)))
        moves.append((day, employee_id, other_teams[rng.integers(len(other_teams))]))
    return tuple(sorted(moves))


def roster_on(seed: int, day: date, world: World = DEFAULT_WORLD) -> tuple[RosterEntry, ...]:
    """The full roster as HR exports it for `day` (moves effective on `day` included), in employee id order."""
    month = day.replace(day=1)
    teams = dict(_teams_at_month_start(seed, month, world))
    for move_day, employee_id, team in _team_moves(seed, month, world):
        if move_day <= day:
            teams[employee_id] = team
    leads, records = _team_leads(seed, world), _hr_records(seed, world)
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

    def __init__(
        self, seed: int, as_of: datetime | date, survey_opens_on: date | None = None, world: World = DEFAULT_WORLD
    ):
        self.seed = seed
        self.as_of = utc_instant(as_of)
        self.world = world
        self.employees = _roster(seed, world)
        self.contents = _contents(seed, world)
        #: the opening day of the latest wave (default: the calendar's); the earlier waves open at the interval
        self._survey_opens_on = survey_opens_on or survey_wave_opening_day(
            survey_wave_index(self.as_of.date() - timedelta(days=1))
        )

    @property
    def share_days(self) -> list[date]:
        """The complete UTC days of the share window: the 28 days before `as_of`'s date."""
        last = self.as_of.date()
        return [last - timedelta(days=n) for n in range(SHARE_WINDOW_DAYS, 0, -1)]

    def shares_on(self, day: date) -> tuple[Share, ...]:
        """Every share of one day, LinkedIn and X, in time order."""
        return tuple(
            sorted(
                _shares_on(self.seed, day, self.world) + _x_shares_on(self.seed, day, self.world),
                key=lambda s: (s.shared_at, s.share_id),
            )
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
        return _x_accounts(self.seed, self.world)

    def find_tweet(self, tweet_id: str) -> Share | None:
        """The share behind a tweet id, if it was posted before `as_of` within the history (deleted or not)."""
        day = share_day_of_tweet(tweet_id)
        if day is None or not self.as_of.date() - timedelta(days=POST_HISTORY_DAYS) <= day <= self.as_of.date():
            return None
        for share in _x_shares_on(self.seed, day, self.world):
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
            for share in _x_shares_on(self.seed, first + timedelta(days=n), self.world)
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
            for post in _page_posts_on(self.seed, since + timedelta(days=n), self.world)
            if post.created_at < self.as_of
        ]
        return sorted(posts, key=lambda post: post.created_at, reverse=True)

    def page_post(self, post_urn: str) -> PagePost | None:
        day = share_day_of_post(post_urn)
        if day is None:
            return None
        posts = _page_posts_on(self.seed, day, self.world)
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
            for share in _shares_by_link_on(self.seed, last - timedelta(days=n), self.world).get(bitlink, ())
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
    def survey_waves(self) -> tuple[SurveyWave, ...]:
        """The last SURVEY_WAVES_SEEN waves, oldest first; the latest opens on `survey_opens_on` (default: the last
        calendar opening on or before the day before `as_of`). Wave k of the calendar runs on survey_vendor(k)."""
        latest = survey_wave_index(self._survey_opens_on)
        waves = []
        for back in range(SURVEY_WAVES_SEEN - 1, -1, -1):
            opens_on = self._survey_opens_on - timedelta(days=back * SURVEY_WAVE_INTERVAL_DAYS)
            waves.append(_survey_wave(self.seed, opens_on, survey_vendor(latest - back), self.world))
        return tuple(waves)

    @property
    def survey_wave(self) -> SurveyWave:
        """The latest wave."""
        return self.survey_waves[-1]

    def survey_waves_for(self, vendor: str) -> tuple[SurveyWave, ...]:
        """The waves run on one survey vendor (`typeform`, `surveymonkey` or `qualtrics`) seen at `as_of`."""
        if vendor not in SURVEY_VENDORS:
            raise ValueError(f"unknown survey vendor {vendor!r}")
        return tuple(wave for wave in self.survey_waves if wave.vendor == vendor)

    @property
    def form_ids(self) -> list[str]:
        return [wave.form_id for wave in self.survey_waves_for("typeform")]

    def survey_responses(self, wave: SurveyWave | None = None) -> list[SurveyResponse]:
        """A wave's (default: every wave's) responses submitted before `as_of` (including those the API does not
        show yet because of its lag)."""
        waves = [wave] if wave is not None else self.survey_waves
        return [r for w in waves for r in w.responses if r.submitted_at < self.as_of]

    def lift_truth(self, horizon_days: int = 7) -> dict[str, dict[str, dict[str, float]]]:
        """The realised truth the headline lift estimates, per network (`linkedin`, `x`, `all`) and primary
        motivation: over the shares matured at `as_of` (shared at least `horizon_days` before; deleted tweets
        excluded), the mean of each share's rate multipliers (`share_multipliers`: what the sharer's motivation and
        a nudge do to the content's rate), weighted by the share's expected count at baseline (impressions ×
        content quality). Only ratios between motivations are meaningful (the scale is the estimator's choice)."""
        employees = {e.employee_id: e for e in self.employees}
        quality = {c.content_id: c.quality for c in self.contents}
        sums: dict[tuple[str, str], list[float]] = {}
        for share in self.shares:
            if self.as_of - share.shared_at < timedelta(days=horizon_days) or self.is_deleted(share):
                continue
            employee = employees[share.employee_id]
            er, ctr = share_multipliers(employee, share.campaign is not None, self.world)
            weight = share.totals.impressions * quality[share.content_id]
            for network in (share.network, "all"):
                cell = sums.setdefault((network, employee.primary_motivation), [0.0, 0.0, 0.0, 0])
                cell[0] += weight * er
                cell[1] += weight * ctr
                cell[2] += weight
                cell[3] += 1
        return {
            network: {
                motivation: {
                    "engagement_rate": cell[0] / cell[2],
                    "click_through_rate": cell[1] / cell[2],
                    "shares": cell[3],
                }
                for (cell_network, motivation), cell in sorted(sums.items())
                if cell_network == network and cell[2] > 0
            }
            for network in (NETWORK, X_NETWORK, "all")
        }

    def ground_truth(self) -> dict:
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
                "survey_responses": len(self.survey_responses()),
                "respondents": len({r.employee_id for r in self.survey_responses()}),
            },
            "share_window": {"first_day": self.share_days[0].isoformat(), "last_day": self.share_days[-1].isoformat()},
            # LinkedIn's, as before X was simulated; every network's (X with its extra counters) below.
            "window_counters_as_of": {f.name: sum(c[f.name] for c in counters) for f in fields(PostTotals)},
            "window_counters_as_of_by_network": {
                network: {name: sum(c[name] for c in rows) for name in (rows[0] if rows else {})}
                for network, rows in counters_by_network.items()
            },
            "world": asdict(self.world),
            "lift_truth": self.lift_truth(),
            "survey": {
                "form_ids": self.form_ids,
                "waves": [
                    {
                        "form_id": wave.form_id,
                        "vendor": wave.vendor,
                        "opens_at": iso_utc(wave.opens_at),
                        "closes_at": iso_utc(wave.closes_at),
                        "respondents": len(self.survey_responses(wave)),
                    }
                    for wave in self.survey_waves
                ],
                "items": [asdict(item) for item in SURVEY_ITEMS],
            },
            "employees": [
                {
                    "employee_id": e.employee_id,
                    "team": e.team,
                    "audience_size": e.audience_size,
                    "dominant_motivation": e.dominant_motivation,
                    "primary_motivation": e.primary_motivation,
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
        return roster_on(self.seed, day, self.world)

    def write_roster_drop(self, drop_dir: Path) -> list[Path]:
        """The HR roster export: the full roster for each day of the share window."""
        return write_roster_files(drop_dir, {day: self.roster_on(day) for day in self.share_days})
