"""Entry points the DAGs call: one per source entity, each one load (one transaction), each returning a LoadReport."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingestion.http import ApiClient, ApiConfig, RetryPolicy, Timeouts
from ingestion.loader import LoadReport, land
from ingestion.members import MemberAccess, member_access
from ingestion.raw_queries import api_calls_today, last_fetched, post_authors, shared_posts, tracking_links
from ingestion.records import Extraction, Target
from ingestion.refresh import DEFAULT as DEFAULT_REFRESH
from ingestion.refresh import RefreshPolicy
from ingestion.shards import WHOLE, Shard
from ingestion.sources import (
    advocacy,
    bitly,
    hr,
    linkedin,
    linkedin_organization,
    qualtrics,
    surveymonkey,
    typeform,
    x,
)

__all__ = [
    "ApiConfig",
    "LoadReport",
    "land_advocacy_shares",
    "land_bitly_link_clicks",
    "land_hr_roster",
    "land_linkedin_organization_statistics",
    "land_linkedin_post_analytics",
    "land_qualtrics_responses",
    "land_surveymonkey_responses",
    "land_surveymonkey_survey_details",
    "land_typeform_responses",
    "land_x_tweet_metrics",
]

log = logging.getLogger(__name__)


def land_advocacy_shares(warehouse_url: str, logical_date: date, drop_dir: Path) -> LoadReport:
    """Every `shares_<day>.csv` with day ≤ logical_date that is new or changed since it landed; the night's own
    file must be there (or have landed), and the night must not be in the future."""
    report = land(
        warehouse_url,
        advocacy.TARGET,
        logical_date,
        lambda state: advocacy.SharesExtraction(Path(drop_dir), logical_date),
    )
    return _logged(report, logical_date)


def land_linkedin_post_analytics(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
    refresh: RefreshPolicy = DEFAULT_REFRESH,
    members: MemberAccess | None = None,
    shard: Shard = WHOLE,
) -> LoadReport:
    """The six TOTAL metrics of the LinkedIn posts shared before the end of logical_date that the refresh schedule
    says are due (by default: every night for a week, then weekly up to 90 days), each read with its author's own
    member token from the token store (`members`; default: the warehouse's store, keys from SHAREWHY_TOKEN_KEYS, no
    refresh), members concurrently. A member without a valid token costs that member's posts (quarantined with the
    reason), never the night. With a `shard`, only the posts of that shard's members, within its share of what is
    left of the app's daily quota."""
    posts = _due_posts(warehouse_url, logical_date, "linkedin", linkedin.TARGET.table, refresh)
    authors = post_authors(warehouse_url, logical_date, "linkedin", refresh.horizon)
    by_member: dict[str, list[str]] = {}
    for post in posts:
        member = authors.get(post.post_id) or ""
        if shard.owns(member):
            by_member.setdefault(member, []).append(post.post_id)
    access = members or member_access(warehouse_url, "linkedin")
    app_calls = None  # the app's calls this load may spend: its shard's part of what is left of the daily quota
    if access.app_daily_quota is not None:
        app_calls = shard.share_of(max(0, access.app_daily_quota - api_calls_today(warehouse_url, "linkedin")))
    report = land(
        warehouse_url,
        linkedin.TARGET,
        logical_date,
        lambda state: linkedin.MemberPostAnalyticsExtraction(
            api,
            linkedin.version_of(api),
            by_member,
            logical_date,
            access,
            retry=retry,
            timeouts=timeouts,
            app_calls=app_calls,
        ),
        secrets=(api.token,),
        shard=shard,
    )
    return _logged(report, logical_date, shard)


def land_linkedin_organization_statistics(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    organization_urn: str,
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
    refresh: RefreshPolicy = DEFAULT_REFRESH,
) -> tuple[LoadReport, LoadReport]:
    """The company page's statistics: each day not landed yet up to logical_date (one load), and the lifetime
    statistics of its posts the refresh schedule says are due (another load)."""
    version = linkedin.version_of(api)
    fetched = last_fetched(
        warehouse_url, linkedin_organization.POST_TARGET.table, "post_urn", logical_date, refresh.horizon
    )

    def due(posts: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
        return refresh.select(posts, lambda p: p[1], lambda p: p[0], logical_date, fetched, "linkedin page posts")

    daily = _land_api(
        warehouse_url,
        logical_date,
        api,
        linkedin.client,
        linkedin_organization.DAILY_TARGET,
        lambda client, state: linkedin_organization.DailyStatisticsExtraction(
            client, version, organization_urn, logical_date, state
        ),
        retry=retry,
        timeouts=timeouts,
    )
    posts = _land_api(
        warehouse_url,
        logical_date,
        api,
        linkedin.client,
        linkedin_organization.POST_TARGET,
        lambda client, state: linkedin_organization.PostStatisticsExtraction(
            client, version, organization_urn, logical_date, due
        ),
        retry=retry,
        timeouts=timeouts,
    )
    return daily, posts


def land_typeform_responses(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    form_ids: list[str],
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
) -> LoadReport:
    """Responses submitted from each form's watermark − 1 h up to the end of logical_date, deduplicated on token."""
    return _land_api(
        warehouse_url,
        logical_date,
        api,
        typeform.client,
        typeform.TARGET,
        lambda client, state: typeform.ResponsesExtraction(client, form_ids, logical_date, state),
        retry=retry,
        timeouts=timeouts,
    )


def land_x_tweet_metrics(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
    refresh: RefreshPolicy = DEFAULT_REFRESH,
    members: MemberAccess | None = None,
    shard: Shard = WHOLE,
) -> LoadReport:
    """The X posts shared before the end of logical_date that the refresh schedule says are due: their tweet objects
    and metrics, 100 ids a call; with the author's own user token (`members`, see land_linkedin_post_analytics) for
    non-public metrics, else the app's token and public metrics only (flagged `app_public`). With a `shard`, only
    the posts of that shard's members."""
    authors = post_authors(warehouse_url, logical_date, "x", refresh.horizon)
    posts = [
        post
        for post in _due_posts(warehouse_url, logical_date, "x", x.TARGET.table, refresh)
        if shard.owns(authors.get(post.post_id) or "")
    ]
    access = members or member_access(warehouse_url, "x")
    return _land_api(
        warehouse_url,
        logical_date,
        api,
        x.client,
        x.TARGET,
        lambda client, state: x.MemberTweetMetricsExtraction(
            client, api, posts, authors, logical_date, access, retry=retry, timeouts=timeouts
        ),
        retry=retry,
        timeouts=timeouts,
        shard=shard,
    )


def land_member_token_status(warehouse_url: str, logical_date: date, network: str) -> LoadReport:
    """The night's status of every member token of `network` (valid, expiring, revoked, needs_consent) into
    `raw.consent__member_token_status`: no token value; what consent coverage is built from."""
    from ingestion.tokens import TokenStatusExtraction

    target = Target(
        "consent", f"{network}_token_status", "consent__member_token_status", ("employee_id", "network", "status")
    )
    report = land(
        warehouse_url, target, logical_date, lambda state: TokenStatusExtraction(warehouse_url, network, logical_date)
    )
    return _logged(report, logical_date)


def land_bitly_link_clicks(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
    now: datetime | None = None,
    refresh: RefreshPolicy = DEFAULT_REFRESH,
) -> LoadReport:
    """Clicks per day of the tracking links shared in the 90 days up to logical_date: the complete days not landed
    yet (up to logical_date), one call per link, for the links the refresh schedule says are due (the days of a
    link not due tonight come with its next call)."""
    links = tracking_links(warehouse_url, logical_date, refresh.horizon)
    return _land_api(
        warehouse_url,
        logical_date,
        api,
        bitly.client,
        bitly.TARGET,
        lambda client, state: bitly.LinkClicksExtraction(
            client, links, logical_date, state, now or datetime.now(UTC), refresh
        ),
        retry=retry,
        timeouts=timeouts,
    )


def land_surveymonkey_responses(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    survey_ids: list[str],
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
) -> LoadReport:
    """Completed responses changed from each survey's watermark − 1 h up to the end of logical_date. `api.base_url`
    is the account's `access_url`, with or without /v3 (see `surveymonkey.exchange_code`)."""
    return _land_api(
        warehouse_url,
        logical_date,
        api,
        surveymonkey.client,
        surveymonkey.TARGET,
        lambda client, state: surveymonkey.ResponsesExtraction(client, survey_ids, logical_date, state),
        retry=retry,
        timeouts=timeouts,
    )


def land_surveymonkey_survey_details(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    survey_ids: list[str],
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
) -> LoadReport:
    """Each survey's catalogue (`/details`: pages, questions, choices and their positions), once a night: the
    responses name choices by id only, and the catalogue says which scale point each is. Land it before the
    responses of the night (`ingest_surveymonkey` does)."""
    return _land_api(
        warehouse_url,
        logical_date,
        api,
        surveymonkey.client,
        surveymonkey.DETAILS_TARGET,
        lambda client, state: surveymonkey.SurveyDetailsExtraction(client, survey_ids),
        retry=retry,
        timeouts=timeouts,
    )


def land_qualtrics_responses(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    survey_ids: list[str],
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
    poll_interval: float = qualtrics.POLL_INTERVAL,
) -> LoadReport:
    """Responses recorded from each survey's watermark − 1 h up to the end of logical_date, one export per survey
    (started, polled until complete, downloaded)."""
    return _land_api(
        warehouse_url,
        logical_date,
        api,
        qualtrics.client,
        qualtrics.TARGET,
        lambda client, state: qualtrics.ResponsesExtraction(
            client, survey_ids, logical_date, state, poll_interval=poll_interval
        ),
        retry=retry,
        timeouts=timeouts,
    )


def land_hr_roster(warehouse_url: str, logical_date: date, drop_dir: Path) -> LoadReport:
    """The HR roster export of logical_date (`hr/roster_<logical_date>.csv`), one row per employee."""
    report = land(
        warehouse_url,
        hr.TARGET,
        logical_date,
        lambda state: hr.RosterExtraction(Path(drop_dir), logical_date, state),
    )
    return _logged(report, logical_date)


def _land_api(
    warehouse_url: str,
    logical_date: date,
    api: ApiConfig,
    open_client: Callable[..., ApiClient],
    target: Target,
    extraction: Callable[[ApiClient, dict[str, Any] | None], Extraction],
    *,
    retry: RetryPolicy,
    timeouts: Timeouts,
    shard: Shard = WHOLE,
) -> LoadReport:
    """One load of `target` through a client of the source's API (`open_client`, e.g. `x.client`), logged:
    `extraction(client, previous_state)` is what it fetches. The API token is scrubbed from a recorded error."""
    with open_client(api, retry=retry, timeouts=timeouts) as client:
        report = land(
            warehouse_url,
            target,
            logical_date,
            lambda state: extraction(client, state),
            secrets=(api.token,),
            shard=shard,
        )
    return _logged(report, logical_date, shard)


def _due_posts(warehouse_url: str, logical_date: date, network: str, table: str, refresh: RefreshPolicy):
    """The posts to `network` the refresh schedule says are due, counting from their last night in `raw.<table>`."""
    key = {"linkedin": "post_urn", "x": "tweet_id"}[network]
    posts = shared_posts(warehouse_url, logical_date, network, refresh.horizon)
    fetched = last_fetched(warehouse_url, table, key, logical_date, refresh.horizon)
    return refresh.select(posts, lambda p: p.shared_at, lambda p: p.post_id, logical_date, fetched, network)


def _logged(report: LoadReport, logical_date: date, shard: Shard = WHOLE) -> LoadReport:
    log.info(
        "%s.%s%s %s load %s: received %d, inserted %d, duplicate %d, quarantined %d, api calls %d",
        report.source,
        report.entity,
        f" (shard {shard.label})" if shard != WHOLE else "",
        logical_date.isoformat(),
        report.load_id,
        report.rows_received,
        report.rows_inserted,
        report.rows_duplicate,
        report.rows_quarantined,
        report.api_calls,
    )
    return report
