"""Land the company page's LinkedIn statistics (organic): per day into `raw.linkedin__organization_daily_statistics`,
per page post into `raw.linkedin__organization_post_statistics`.

`organizationalEntityShareStatistics` with Rest.li 2.0 literals: `timeIntervals=(timeRange:(…),timeGranularityType:DAY)`
for the days not landed yet, and `shares=List(…)` / `ugcPosts=List(…)` for the page's posts of the last 90 days
(listed by the Posts finder). The `linkedin_api` connection gives the base URL, the token (a page administrator's)
and the page in `extra.organization_urn`.
"""

from dataclasses import asdict

from airflow.sdk import get_current_context, task

from pipeline.assets import RAW_LINKEDIN_ORGANIZATION_DAILY_STATISTICS, RAW_LINKEDIN_ORGANIZATION_POST_STATISTICS
from pipeline.defaults import nightly, nightly_dag
from pipeline.pools import api_pool
from sharewhy import settings


@nightly_dag(nightly("30 0 * * *"), tags=["ingestion", "linkedin"], doc_md=__doc__)
def ingest_linkedin_organization():
    @task(
        outlets=[RAW_LINKEDIN_ORGANIZATION_DAILY_STATISTICS, RAW_LINKEDIN_ORGANIZATION_POST_STATISTICS],
        pool=api_pool(settings.LINKEDIN_CONN_ID),
    )
    def land_page_statistics() -> list[dict]:
        from ingestion.refresh import RefreshPolicy
        from ingestion.run import land_linkedin_organization_statistics
        from pipeline.connections import api_config, organization_urn
        from pipeline.runs import night_of

        reports = land_linkedin_organization_statistics(
            settings.warehouse_url(),
            night_of(get_current_context()),
            api_config(settings.LINKEDIN_CONN_ID),
            organization_urn(settings.LINKEDIN_CONN_ID),
            refresh=RefreshPolicy.parse(settings.REFRESH_SCHEDULE),
        )
        return [asdict(report) for report in reports]

    land_page_statistics()


ingest_linkedin_organization()
