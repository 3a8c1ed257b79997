"""Land LinkedIn member-post analytics (cumulative counts per shared post) into `raw.linkedin__member_post_analytics`.

The posts to fetch are the night's and earlier shares already landed in `raw.advocacy__shares`; the API's base URL
and token come from the `linkedin_api` connection.
"""

from dataclasses import asdict

from airflow.sdk import dag, task
from pipeline.assets import RAW_LINKEDIN_POST_ANALYTICS
from pipeline.defaults import DEFAULT_ARGS, START_DATE, nightly


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
    @task(outlets=[RAW_LINKEDIN_POST_ANALYTICS])
    def land_member_post_analytics(logical_date=None) -> dict:
        from ingestion.run import land_linkedin_post_analytics
        from pipeline.connections import api_config
        from sharewhy import settings

        report = land_linkedin_post_analytics(
            settings.warehouse_url(), logical_date.date(), api_config(settings.LINKEDIN_CONN_ID)
        )
        return asdict(report)

    land_member_post_analytics()


ingest_linkedin()
