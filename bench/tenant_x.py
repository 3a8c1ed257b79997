"""The benchmark tenant's X part: a deterministic share of the tenant's shares (bench/tenant.py) are X posts.

Which of a day's shares went to X depends on (seed, day) only, like everything in the tenant, so 10× history is the
same X posts on the same recent days with ten times as many days behind them. An X post keeps its share's sharer,
content, instant and lifetime totals (the causal model), and takes the simulator's id scheme (simulator/company.py):
a snowflake tweet id — milliseconds since X's epoch above 22 low bits — and share id `sh-<day>-x<n>`; X's own
counters besides the causal ones (quotes, bookmarks, profile clicks) are drawn at the simulator's rates.

How it reaches the pipeline:
- the history, set-up and not measured, straight into raw in bulk: the X shares into `raw.advocacy__shares` and the
  readings the nightly X extraction would have landed into `raw.x__tweet_metrics` (server-side SQL; the refresh
  schedule's reading nights, older posts thinned as for LinkedIn: `bench.tenant.OLD_POST_READING_NIGHTS`). History
  readings were made with the author's own token (every author consented then): posts younger than 30 days carry
  `non_public_metrics` and `organic_metrics` (link clicks), older ones public metrics only;
- a benchmarked night's X shares into `raw.advocacy__shares` as the advocacy load lands them (COPY; the advocacy
  load itself is the night section's figure);
- the night's X readings through the project's X source against the simulator's `XApi` with this tenant behind it
  (`TenantX`: what the handler asks of a company).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

import numpy as np
import orjson

from bench.tenant import MEASURED_FOR_DAYS, Tenant, content_id, employee_id, tracking_link
from simulator import company as sim

#: Part of the tenant's shares that are X posts.
X_FRACTION = 0.3
_X_STREAM = 50


@dataclass
class DayXPosts:
    """One day's X posts as columns."""

    day: date
    employee: np.ndarray
    content: np.ndarray
    ms_in_day: np.ndarray  # sorted
    post_random: np.ndarray
    campaign: np.ndarray
    audience: np.ndarray
    totals: dict[str, np.ndarray]  # sim.XPostTotals field → lifetime totals

    def __len__(self) -> int:
        return len(self.employee)

    @cached_property
    def tweet_ids(self) -> list[str]:
        midnight_ms = int(datetime.combine(self.day, time(), UTC).timestamp()) * 1000
        since_epoch = midnight_ms + self.ms_in_day.astype(np.int64) - sim.X_EPOCH_MS
        return [str(n) for n in ((since_epoch << 22) | self.post_random.astype(np.int64)).tolist()]

    @cached_property
    def shared_at(self) -> list[datetime]:
        midnight = datetime.combine(self.day, time(), UTC)
        return [midnight + timedelta(seconds=ms // 1000) for ms in self.ms_in_day.tolist()]

    def records(self) -> Iterator[dict]:
        """The advocacy export's rows of the day's X shares, as the advocacy source parses them."""
        for n, (e, c, tweet_id, at, campaign, audience) in enumerate(
            zip(
                self.employee.tolist(),
                self.content.tolist(),
                self.tweet_ids,
                self.shared_at,
                self.campaign.tolist(),
                self.audience.tolist(),
                strict=True,
            ),
            start=1,
        ):
            yield {
                "share_id": f"sh-{self.day:%Y%m%d}-x{n:05d}",
                "employee_id": employee_id(e),
                "content_id": content_id(c),
                "network": sim.X_NETWORK,
                "post_id": tweet_id,
                "shared_at": sim.iso_utc(at),
                "tracking_link": tracking_link(e, c),
                "share_mode": "manual",
                "copy_edited": False,
                "campaign": sim.CAMPAIGNS[campaign] if campaign >= 0 else None,
                "audience_size": audience,
            }


def x_posts_on(tenant: Tenant, day: date, fraction: float = X_FRACTION) -> DayXPosts:
    """The day's shares that went to X (a pure function of seed and day)."""
    shares = tenant.shares_on(day)
    rng = np.random.default_rng([tenant.spec.seed, _X_STREAM, day.toordinal()])
    on_x = rng.random(len(shares)) < fraction
    totals = {name: values[on_x] for name, values in shares.totals.items()}
    engagements = totals["reactions"] + totals["comments"] + totals["reshares"]
    totals["quotes"] = rng.binomial(engagements, sim.X_QUOTE_RATE)
    totals["bookmarks"] = rng.binomial(totals["reactions"], sim.X_BOOKMARK_RATE)
    totals["profile_clicks"] = rng.binomial(totals["impressions"], sim.X_PROFILE_CLICK_RATE)
    return DayXPosts(
        day,
        shares.employee[on_x],
        shares.content[on_x],
        shares.ms_in_day[on_x],
        shares.post_random[on_x],
        shares.campaign[on_x],
        shares.audience[on_x],
        totals,
    )


def raw_x_share_lines(
    tenant: Tenant, days: list[date], request: str, extracted: datetime | None = None
) -> Iterator[str]:
    """COPY text lines for raw.advocacy__shares of the days' X shares (share_id, payload, _load_id, _extracted_at,
    _logical_date, _request); a day's rows extracted when its night ran (00:30 UTC the next day) unless `extracted`."""
    load = str(uuid.uuid4())
    for day in days:
        at = (extracted or datetime.combine(day + timedelta(days=1), time(0, 30), UTC)).isoformat()
        for record in x_posts_on(tenant, day).records():
            payload = orjson.dumps(record).decode()
            yield f"{record['share_id']}\t{payload}\t{load}\t{at}\t{day.isoformat()}\t{request}\n"


def x_post_lines(tenant: Tenant, days: list[date]) -> Iterator[str]:
    """COPY text lines of the days' X posts for the set-up's `bench_tenant.x_posts` (tweet_id, shared_at, then the
    lifetime totals in `X_TOTAL_COLUMNS` order)."""
    for day in days:
        posts = x_posts_on(tenant, day)
        columns = [posts.totals[c].tolist() for c in X_TOTAL_COLUMNS]
        for tweet_id, at, *values in zip(posts.tweet_ids, posts.shared_at, *columns, strict=True):
            yield f"{tweet_id}\t{at.isoformat()}\t" + "\t".join(map(str, values)) + "\n"


X_TOTAL_COLUMNS = ("impressions", "reactions", "comments", "reshares", "link_clicks", "quotes", "bookmarks",
                   "profile_clicks")  # fmt: skip


class TenantX:
    """What the simulator's `XApi` asks of a company — `as_of`, `find_tweet`, `is_deleted`, `x_accounts`,
    `counters`, `x_timeline` — answered from the tenant, for the X posts a night measures (shared up to 90 days
    before it). No post is deleted (the demo's simulator covers deletions)."""

    @dataclass(frozen=True)
    class Account:
        employee_id: str
        user_id: str

    def __init__(self, tenant: Tenant, night: date):
        self.as_of = datetime.combine(night + timedelta(days=1), time(), UTC)
        self._posts: dict[str, sim.Share] = {}
        for n in range(MEASURED_FOR_DAYS + 1):
            posts = x_posts_on(tenant, night - timedelta(days=n))
            columns = [posts.totals[f].tolist() for f in sim.XPostTotals.__dataclass_fields__]
            for record, at, *values in zip(posts.records(), posts.shared_at, *columns, strict=True):
                self._posts[record["post_id"]] = sim.Share(
                    share_id=record["share_id"],
                    employee_id=record["employee_id"],
                    content_id=record["content_id"],
                    network=sim.X_NETWORK,
                    post_id=record["post_id"],
                    shared_at=at,
                    tracking_link=record["tracking_link"],
                    share_mode=record["share_mode"],
                    copy_edited=record["copy_edited"],
                    campaign=record["campaign"],
                    audience_size=record["audience_size"],
                    totals=sim.XPostTotals(*values),
                )
        self.x_accounts = {
            author: TenantX.Account(author, str(10**17 + int(author[2:])))
            for author in {p.employee_id for p in self._posts.values()}
        }

    def find_tweet(self, tweet_id: str) -> sim.Share | None:
        post = self._posts.get(tweet_id)
        return post if post is not None and post.shared_at < self.as_of else None

    @staticmethod
    def is_deleted(share: sim.Share) -> bool:
        return False

    def counters(self, share: sim.Share) -> sim.XPostTotals:
        age_days = (self.as_of - share.shared_at).total_seconds() / 86_400
        totals = share.totals
        return sim.XPostTotals(
            *(sim.counter_at(getattr(totals, f), age_days) for f in sim.XPostTotals.__dataclass_fields__)
        )

    def x_timeline(self, user_id: str) -> list[sim.Share] | None:
        return None  # the X source uses the post lookup only
