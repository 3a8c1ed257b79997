"""A deterministic reference tenant at scale, and the ways it reaches the pipeline.

Default: 10,000 enrolled employees, 1,000,000 historical shares over two years (730 days, ≈1,370 a day) and
20,000 new shares on each benchmarked night; every size is a parameter. Everything is a pure function of the seed:
a day's shares depend on (seed, day) only, so the tenant with 10× the history is the same tenant with ten times as
many days behind it at the same daily rate — the nights benchmarked on top of either are identical, and only the
accumulated history differs.

It follows the project's own synthetic company (simulator/company.py): the same causal model of engagement
(ER_EFFECT, CTR_EFFECT, base rates), the same id schemes (LinkedIn activity ids carrying the share's milliseconds in
their high bits, `sh-<day>-<n>` share ids), the same export columns. What differs is the scale and the speed:
numpy vectorised per day instead of one Python object per share.

How it reaches the pipeline:
- the advocacy export and the HR roster as file drops (`advocacy/shares_<day>.csv`, `hr/roster_<day>.csv`), read by
  the project's own sources;
- LinkedIn through the project's simulator (its `LinkedInApi` handler and HTTP server) with this tenant behind it
  (`TenantLinkedIn`: the three things the handler asks of a company);
- the history, which is set-up and not measured, straight into `raw` in bulk (COPY of exactly the rows the loader
  would land, and server-side SQL for the nightly LinkedIn readings and HR rosters of past nights).
"""

from __future__ import annotations

import csv
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import orjson

from simulator import company as sim

CONTENT_COUNT = 200
LINKEDIN_METRICS = ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS")
#: LinkedIn metric → column of the tenant's post totals.
METRIC_COLUMNS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "members_reached",
    "REACTION": "reactions",
    "COMMENT": "comments",
    "RESHARE": "reshares",
    "LINK_CLICKS": "link_clicks",
}
#: Nights (days after sharing) on which the history laid down before the benchmark has a post read. Posts young
#: enough to still be refreshed on the benchmarked nights get every reading the project's refresh schedule
#: (ingestion/refresh.py, "7:1,90:7": nightly for a week, then weekly up to 90 days) would have made, so the nights
#: see its steady state. Older posts keep 3 of those 18 readings (the first, the last nightly, the final weekly):
#: their full history — 18 readings × 6 metrics ≈ 108 raw rows a share, 100 M rows at a million shares — is more
#: than a benchmark set-up here can lay down, and only the incremental models' reading of old history depends on it.
POLICY_READING_NIGHTS = (*range(7), *range(13, 90, 7))
OLD_POST_READING_NIGHTS = (0, 6, 83)
MEASURED_FOR_DAYS = 90  # ingestion.raw_queries.MEASURED_FOR
_MS_PER_DAY = 86_400_000
_TOTAL_FIELDS = fields(sim.PostTotals)


@dataclass(frozen=True)
class TenantSpec:
    employees: int = 10_000
    history_shares: int = 1_000_000
    history_days: int = 730
    night_shares: int = 20_000
    seed: int = 7
    #: The first benchmarked night (logical date); night k is first_night + k. In the past, as real nights are: the
    #: audit refuses rows shared after they were extracted.
    first_night: date = date(2026, 10, 1)
    #: Nights of HR rosters kept in raw before the first night (the roster history is full-width every night).
    roster_nights: int = 30

    def with_history(self, factor: int) -> TenantSpec:
        """The same tenant with `factor` × the history: `factor` × the days, same daily rate, same nights."""
        return replace(self, history_shares=self.history_shares * factor, history_days=self.history_days * factor)

    @property
    def history_rate(self) -> float:
        return self.history_shares / self.history_days

    def night(self, k: int) -> date:
        return self.first_night + timedelta(days=k)

    @property
    def history_start(self) -> date:
        return self.first_night - timedelta(days=self.history_days)

    def history_day_list(self) -> list[date]:
        return [self.history_start + timedelta(days=n) for n in range(self.history_days)]


@dataclass
class DayShares:
    """One day's shares as columns (numpy arrays, plus derived strings on demand)."""

    day: date
    employee: np.ndarray  # employee index
    content: np.ndarray
    ms_in_day: np.ndarray  # sorted
    post_random: np.ndarray
    ugc: np.ndarray
    scheduled: np.ndarray
    copy_edited: np.ndarray
    campaign: np.ndarray  # −1: none
    audience: np.ndarray
    totals: dict[str, np.ndarray]  # column → lifetime totals

    def __len__(self) -> int:
        return len(self.employee)

    @cached_property
    def post_urns(self) -> list[str]:
        midnight_ms = int(datetime.combine(self.day, time(), UTC).timestamp()) * 1000
        numbers = ((midnight_ms + self.ms_in_day.astype(np.int64)) << 22) | self.post_random.astype(np.int64)
        return [
            f"urn:li:{'ugcPost' if u else 'share'}:{n}"
            for u, n in zip(self.ugc.tolist(), numbers.tolist(), strict=True)
        ]

    @cached_property
    def shared_at(self) -> list[datetime]:
        midnight = datetime.combine(self.day, time(), UTC)
        return [midnight + timedelta(seconds=ms // 1000) for ms in self.ms_in_day.tolist()]

    def share_ids(self) -> list[str]:
        return [f"sh-{self.day:%Y%m%d}-{n:06d}" for n in range(1, len(self) + 1)]

    def records(self) -> Iterator[dict]:
        """The export's rows as the advocacy source parses them (typed values, in file order)."""
        shared_at = [sim.iso_utc(t) for t in self.shared_at]
        for share_id, e, c, urn, at, scheduled, edited, campaign, audience in zip(
            self.share_ids(),
            self.employee.tolist(),
            self.content.tolist(),
            self.post_urns,
            shared_at,
            self.scheduled.tolist(),
            self.copy_edited.tolist(),
            self.campaign.tolist(),
            self.audience.tolist(),
            strict=True,
        ):
            yield {
                "share_id": share_id,
                "employee_id": employee_id(e),
                "content_id": content_id(c),
                "network": sim.NETWORK,
                "post_id": urn,
                "shared_at": at,
                "tracking_link": tracking_link(e, c),
                "share_mode": "scheduled" if scheduled else "manual",
                "copy_edited": bool(edited),
                "campaign": sim.CAMPAIGNS[campaign] if campaign >= 0 else None,
                "audience_size": audience,
            }


def employee_id(index: int) -> str:
    return f"e-{index + 1:04d}"  # the simulator's scheme: e-0001 … (wider past 9,999)


def content_id(index: int) -> str:
    return f"c-{index + 1:03d}"


def tracking_link(employee: int, content: int) -> str:
    return f"bit.ly/{employee * CONTENT_COUNT + content:07x}"


class Tenant:
    def __init__(self, spec: TenantSpec):
        self.spec = spec
        rng = np.random.default_rng([spec.seed, 1])
        teams = list(sim.TEAM_LEANINGS)
        self.team = np.arange(spec.employees) % len(teams)
        self.team_names = teams
        leaning = rng.random(spec.employees) < sim.TEAM_LEANING_PROBABILITY
        random_dominant = rng.integers(len(sim.MOTIVATIONS), size=spec.employees)
        team_dominant = np.array([sim.MOTIVATIONS.index(sim.TEAM_LEANINGS[t]) for t in teams])[self.team]
        dominant = np.where(leaning, team_dominant, random_dominant)
        alpha = np.full((spec.employees, len(sim.MOTIVATIONS)), sim.DIRICHLET_OTHER_ALPHA)
        alpha[np.arange(spec.employees), dominant] = sim.DIRICHLET_DOMINANT_ALPHA
        self.weights = rng.standard_gamma(alpha)
        self.weights /= self.weights.sum(axis=1, keepdims=True)
        audience = np.rint(rng.lognormal(sim.AUDIENCE_LOG_MEDIAN, sim.AUDIENCE_LOG_SIGMA, spec.employees))
        self.audience = np.clip(audience, 100, 10_000).astype(np.int64)
        self.quality = np.round(np.random.default_rng([spec.seed, 2]).uniform(0.5, 1.5, CONTENT_COUNT), 4)
        er = np.array([sim.ER_EFFECT[m] for m in sim.MOTIVATIONS])
        ctr = np.array([sim.CTR_EFFECT[m] for m in sim.MOTIVATIONS])
        self.er_mix = self.weights @ er
        self.ctr_mix = self.weights @ ctr

    # ---- shares ------------------------------------------------------------------------------------------------

    def count_on(self, day: date) -> int:
        if day >= self.spec.first_night:
            return self.spec.night_shares
        rate = self.spec.history_rate
        frac = np.random.default_rng([self.spec.seed, 3, day.toordinal()]).random()
        return int(math.floor(rate) + (frac < rate - math.floor(rate)))

    def shares_on(self, day: date) -> DayShares:
        return _shares_on(self, day)

    def _draw(self, day: date) -> DayShares:
        n = self.count_on(day)
        rng = np.random.default_rng([self.spec.seed, 4, day.toordinal()])
        employee = rng.integers(self.spec.employees, size=n)
        content = rng.integers(CONTENT_COUNT, size=n)
        ms = np.sort(rng.integers(0, _MS_PER_DAY, size=n))
        post_random = rng.integers(0, 2**22, size=n)
        ugc = rng.random(n) < sim.UGC_POST_FRACTION
        scheduled = rng.random(n) < 0.4
        copy_edited = rng.random(n) < 0.35
        campaign = np.where(rng.random(n) < 0.5, rng.integers(len(sim.CAMPAIGNS), size=n), -1)
        audience = self.audience[employee]
        quality = self.quality[content]
        impressions = rng.poisson(audience * sim.IMPRESSIONS_PER_FOLLOWER * quality)
        er = np.minimum(sim.BASE_ENGAGEMENT_RATE * quality * self.er_mix[employee], 1.0)
        ctr = np.minimum(sim.BASE_CLICK_THROUGH_RATE * quality * self.ctr_mix[employee], 1.0)
        engagements = rng.binomial(impressions, er)
        split = sim.ENGAGEMENT_SPLIT
        reactions = rng.binomial(engagements, split["reactions"])
        comments = rng.binomial(engagements - reactions, split["comments"] / (split["comments"] + split["reshares"]))
        totals = {
            "impressions": impressions,
            "members_reached": np.floor(sim.MEMBERS_REACHED_PER_IMPRESSION * impressions).astype(np.int64),
            "reactions": reactions,
            "comments": comments,
            "reshares": engagements - reactions - comments,
            "link_clicks": rng.binomial(impressions, ctr),
        }
        return DayShares(
            day, employee, content, ms, post_random, ugc, scheduled, copy_edited, campaign, audience, totals
        )

    # ---- file drops --------------------------------------------------------------------------------------------

    def write_shares_file(self, drop_dir: Path, day: date) -> Path:
        """`<drop_dir>/advocacy/shares_<day>.csv`, the export's format (written under a temporary name, renamed)."""
        folder = Path(drop_dir) / "advocacy"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"shares_{day.isoformat()}.csv"
        partial = path.with_name(f".{path.name}.partial")
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            # the export without its optional content columns (an older platform version's shape)
            writer.writerow(column for column in sim.SHARES_CSV_COLUMNS if column not in sim.SHARES_CSV_CONTENT_COLUMNS)
            for r in self.shares_on(day).records():
                writer.writerow(
                    (
                        r["share_id"],
                        r["employee_id"],
                        r["content_id"],
                        r["network"],
                        r["post_id"],
                        r["shared_at"],
                        r["tracking_link"],
                        r["share_mode"],
                        "true" if r["copy_edited"] else "false",
                        r["campaign"] or "",
                        r["audience_size"],
                    )
                )
        partial.replace(path)
        return path

    def roster_rows(self) -> list[dict]:
        """The HR export's rows (the roster does not change over the benchmarked nights)."""
        leads: dict[int, int] = {}
        for index, team in enumerate(self.team.tolist()):
            leads.setdefault(team, index)
        rows = []
        for index, team in enumerate(self.team.tolist()):
            name = self.team_names[team]
            rows.append(
                {
                    "employee_id": employee_id(index),
                    "email": f"{employee_id(index)}@{sim.EMAIL_DOMAIN}",
                    "team": name,
                    "department": sim.TEAM_DEPARTMENTS[name],
                    "manager": None if leads[team] == index else employee_id(leads[team]),
                    "location": sim.LOCATIONS[index % len(sim.LOCATIONS)],
                    "start_date": "2020-01-06",
                }
            )
        return rows

    def write_roster_file(self, drop_dir: Path, day: date) -> Path:
        folder = Path(drop_dir) / "hr"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"roster_{day.isoformat()}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=sim.ROSTER_CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in self.roster_rows():
                writer.writerow({**row, "manager": row["manager"] or ""})
        return path

    # ---- raw rows, for bulk set-up and for the psql baseline --------------------------------------------------

    def raw_share_lines(self, days: list[date], request: str, load_id: uuid.UUID | None = None) -> Iterator[str]:
        """COPY text lines for raw.advocacy__shares (share_id, payload, _load_id, _extracted_at, _logical_date,
        _request): the same rows, byte for byte in `payload`, that the loader lands from the export. A day's rows
        are extracted when its night ran (00:30 UTC the next day), as they would have been."""
        load = str(load_id or uuid.uuid4())
        for day in days:
            extracted = datetime.combine(day + timedelta(days=1), time(0, 30), UTC).isoformat()
            for record in self.shares_on(day).records():
                payload = orjson.dumps(record).decode()
                yield f"{record['share_id']}\t{payload}\t{load}\t{extracted}\t{day.isoformat()}\t{request}\n"


@lru_cache(maxsize=64)
def _shares_on(tenant: Tenant, day: date) -> DayShares:
    return tenant._draw(day)


class TenantLinkedIn:
    """What the simulator's `LinkedInApi` asks of a company — `as_of`, `find_post`, `counters` — answered from the
    tenant, for the posts a night measures (shared up to 90 days before it)."""

    @dataclass(frozen=True)
    class Post:
        shared_at: datetime
        totals: sim.PostTotals
        employee_id: str = ""  # the author: member post analytics answer only the author's own token

    def __init__(self, tenant: Tenant, night: date):
        self.as_of = datetime.combine(night + timedelta(days=1), time(), UTC)
        self._posts: dict[str, TenantLinkedIn.Post] = {}
        for n in range(MEASURED_FOR_DAYS + 1):
            day = night - timedelta(days=n)
            shares = tenant.shares_on(day)
            columns = [shares.totals[f.name].tolist() for f in _TOTAL_FIELDS]
            authors = [employee_id(e) for e in shares.employee.tolist()]
            for urn, at, author, *values in zip(shares.post_urns, shares.shared_at, authors, *columns, strict=True):
                self._posts[urn] = TenantLinkedIn.Post(at, sim.PostTotals(*values), author)

    def find_post(self, post_urn: str):
        post = self._posts.get(post_urn)
        return post if post is not None and post.shared_at < self.as_of else None

    def counters(self, post) -> sim.PostTotals:
        age_days = (self.as_of - post.shared_at).total_seconds() / 86_400
        return sim.PostTotals(*(sim.counter_at(getattr(post.totals, f.name), age_days) for f in _TOTAL_FIELDS))


def tenant_consent(spec: TenantSpec, secret: str, **shares: float):
    """Every tenant employee as a LinkedIn member with tokens of their own (simulator.consent), derived from the
    simulator's `secret`: the serving process and the benchmark build the same registry."""
    from simulator.consent import ConsentRegistry, members_of

    return ConsentRegistry(secret, members_of(employee_id(i) for i in range(spec.employees)), **shares)
