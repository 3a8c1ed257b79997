"""The seeded synthetic company behind every simulated source, and the causal model that drives its numbers.

Everything is a pure function of the seed and the instant `as_of` the company is observed at:
- the roster (employees, teams, true motivation weights, audience sizes) and the content pieces depend on the seed only;
- the shares of a calendar day depend on the seed and that day only, so a post keeps its identity and its lifetime
  totals whatever `as_of` is, and its cumulative counters can only grow when `as_of` moves forward;
- a survey wave depends on the seed and its opening day only; a response exists once its submission time has passed.

Post ids are built like LinkedIn's activity ids (the share's Unix time in milliseconds in the high bits), so the
simulator can find any post of its history from the URN alone, not only the posts of the current 28-day window.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
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

# Independent random streams, so that adding draws to one part never changes another part.
_ROSTER_STREAM, _CONTENT_STREAM, _SHARES_STREAM, _SURVEY_STREAM = 1, 2, 3, 4
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
            totals = _draw_totals(rng, employee, content)
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


def _draw_totals(rng: np.random.Generator, employee: Employee, content: Content) -> PostTotals:
    """The causal model: audience and content quality drive impressions; motivation drives the rates."""
    impressions = int(rng.poisson(employee.audience_size * IMPRESSIONS_PER_FOLLOWER * content.quality))
    engagement_rate = min(expected_engagement_rate(employee.weights, content.quality), 1.0)
    click_through_rate = min(expected_click_through_rate(employee.weights, content.quality), 1.0)
    engagements = int(rng.binomial(impressions, engagement_rate))
    reactions, comments, reshares = (int(n) for n in rng.multinomial(engagements, list(ENGAGEMENT_SPLIT.values())))
    link_clicks = int(rng.binomial(impressions, click_through_rate))
    members_reached = math.floor(MEMBERS_REACHED_PER_IMPRESSION * impressions)
    return PostTotals(impressions, members_reached, reactions, comments, reshares, link_clicks)


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
        return _shares_on(self.seed, day)

    @cached_property
    def shares(self) -> tuple[Share, ...]:
        """The shares of the window, i.e. exactly what the shares export holds."""
        return tuple(share for day in self.share_days for share in self.shares_on(day))

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
        return PostTotals(**{name: counter_at(total, age_days) for name, total in asdict(share.totals).items()})

    @cached_property
    def survey_wave(self) -> SurveyWave:
        return _survey_wave(self.seed, self._survey_opens_on)

    @property
    def form_ids(self) -> list[str]:
        return [self.survey_wave.form_id]

    def survey_responses(self) -> list[SurveyResponse]:
        """Responses submitted before `as_of` (including those the API does not show yet because of its lag)."""
        return [r for r in self.survey_wave.responses if r.submitted_at < self.as_of]

    def ground_truth(self) -> dict:
        wave = self.survey_wave
        shares = self.shares
        counters = [asdict(self.counters(share)) for share in shares]
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
                "respondents": len(self.survey_responses()),
            },
            "share_window": {"first_day": self.share_days[0].isoformat(), "last_day": self.share_days[-1].isoformat()},
            "window_counters_as_of": {f.name: sum(c[f.name] for c in counters) for f in fields(PostTotals)},
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
