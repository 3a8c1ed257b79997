"""Land LinkedIn member-post analytics (cumulative counts per shared post) into `raw.linkedin__member_post_analytics`.

The posts to fetch are the night's and earlier shares landed in `raw.advocacy__shares`, so the DAG first waits
(rescheduling, no worker slot held) until the advocacy export of its night has landed: in a backfill, or when the
export is late, LinkedIn is never asked for a night whose shares are not known yet. The API's base URL and token come
from the `linkedin_api` connection; the `linkedin_api` pool keeps loads from spending the daily quota together.
"""

from dataclasses import asdict

from airflow.sdk import dag, get_current_context, task
from pipeline.assets import RAW_LINKEDIN_POST_ANALYTICS
from pipeline.defaults import DEFAULT_ARGS, START_DATE, nightly
from pipeline.landings import wait_for_shares
from pipeline.pools import api_pool

from sharewhy import settings


@dag(
    schedule=nightly("30 0 * * *"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingestion", "linkedin"],
    doc_md=__doc__,
)
def ingest_linkedin():
    @task(outlets=[RAW_LINKEDIN_POST_ANALYTICS], pool=api_pool(settings.LINKEDIN_CONN_ID))
    def land_member_post_analytics() -> dict:
        from ingestion.refresh import RefreshPolicy
        from ingestion.run import land_linkedin_post_analytics
        from pipeline.connections import api_config
        from pipeline.runs import night_of

        report = land_linkedin_post_analytics(
            settings.warehouse_url(),
            night_of(get_current_context()),
            api_config(settings.LINKEDIN_CONN_ID),
            refresh=RefreshPolicy.parse(settings.REFRESH_SCHEDULE),
        )
        return asdict(report)

    wait_for_shares() >> land_member_post_analytics()


ingest_linkedin()
