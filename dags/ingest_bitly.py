"""Land clicks per tracking link per day from Bitly into `raw.bitly__link_clicks`.

The links are those of the shares landed in `raw.advocacy__shares` (so the DAG first waits for its night's export;
one link per employee × content, on any network). A link due under the refresh schedule (SHAREWHY_REFRESH_SCHEDULE,
counted from its latest share) gets, in one call, every complete day not landed yet up to the night. A tracking link
counts clicks from every source, so it is at least the platforms' link clicks. Bitly's monthly quota running out
fails the task at once (no retry helps); the API's base URL and token come from the `bitly_api` connection.
"""

from dataclasses import asdict

from airflow.sdk import dag, get_current_context, task
from pipeline.assets import RAW_BITLY_LINK_CLICKS
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
    tags=["ingestion", "bitly"],
    doc_md=__doc__,
)
def ingest_bitly():
    @task(outlets=[RAW_BITLY_LINK_CLICKS], pool=api_pool(settings.BITLY_CONN_ID))
    def land_link_clicks() -> dict:
        from ingestion.refresh import RefreshPolicy
        from ingestion.run import land_bitly_link_clicks
        from pipeline.connections import api_config
        from pipeline.runs import night_of

        report = land_bitly_link_clicks(
            settings.warehouse_url(),
            night_of(get_current_context()),
            api_config(settings.BITLY_CONN_ID),
            refresh=RefreshPolicy.parse(settings.REFRESH_SCHEDULE),
        )
        return asdict(report)

    wait_for_shares() >> land_link_clicks()


ingest_bitly()
