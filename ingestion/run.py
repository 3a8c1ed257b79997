"""Entry points the DAGs call: one per source entity, each one load (one transaction), each returning a LoadReport."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from ingestion.http import ApiConfig
from ingestion.loader import LoadReport, land
from ingestion.raw_queries import posts_to_measure
from ingestion.sources import advocacy, linkedin, typeform

__all__ = ["ApiConfig", "LoadReport", "land_advocacy_shares", "land_linkedin_post_analytics", "land_typeform_responses"]

log = logging.getLogger(__name__)


def land_advocacy_shares(warehouse_url: str, logical_date: date, drop_dir: Path) -> LoadReport:
    """Every `shares_<day>.csv` with day ≤ logical_date not landed yet."""
    report = land(
        warehouse_url,
        advocacy.TARGET,
        logical_date,
        lambda state: advocacy.SharesExtraction(Path(drop_dir), logical_date, state),
    )
    return _logged(report, logical_date)


def land_linkedin_post_analytics(warehouse_url: str, logical_date: date, api: ApiConfig) -> LoadReport:
    """The six TOTAL metrics of every LinkedIn post shared before the end of logical_date, at most 90 days old."""
    post_urns = posts_to_measure(warehouse_url, logical_date)
    with linkedin.client(api) as client:
        report = land(
            warehouse_url,
            linkedin.TARGET,
            logical_date,
            lambda state: linkedin.PostAnalyticsExtraction(client, linkedin.version_of(api), post_urns, logical_date),
            secrets=(api.token,),
        )
    return _logged(report, logical_date)


def land_typeform_responses(warehouse_url: str, logical_date: date, api: ApiConfig, form_ids: list[str]) -> LoadReport:
    """Responses submitted from each form's watermark − 1 h up to the end of logical_date, deduplicated on token."""
    with typeform.client(api) as client:
        report = land(
            warehouse_url,
            typeform.TARGET,
            logical_date,
            lambda state: typeform.ResponsesExtraction(client, form_ids, logical_date, state),
            secrets=(api.token,),
        )
    return _logged(report, logical_date)


def _logged(report: LoadReport, logical_date: date) -> LoadReport:
    log.info(
        "%s.%s %s load %s: received %d, inserted %d, duplicate %d, quarantined %d, api calls %d",
        report.source,
        report.entity,
        logical_date.isoformat(),
        report.load_id,
        report.rows_received,
        report.rows_inserted,
        report.rows_duplicate,
        report.rows_quarantined,
        report.api_calls,
    )
    return report
