"""Land clicks per tracking link per day from Bitly into `raw.bitly__link_clicks`.

The links are those of the shares landed in `raw.advocacy__shares` (so the DAG first waits for its night's export;
one link per employee × content, on any network). A link due under the refresh schedule (SHAREWHY_REFRESH_SCHEDULE,
counted from its latest share) gets, in one call, every complete day not landed yet up to the night. A tracking link
counts clicks from every source, so it is at least the platforms' link clicks. Bitly's monthly quota running out
fails the task at once (no retry helps); the API's base URL and token come from the `bitly_api` connection.
"""

from airflow.sdk import task

from pipeline.api_loads import land_share_measures
from pipeline.assets import RAW_BITLY_LINK_CLICKS
from pipeline.defaults import nightly, nightly_dag
from pipeline.landings import wait_for_shares
from pipeline.pools import api_pool
from sharewhy import settings


@nightly_dag(nightly("30 0 * * *"), tags=["ingestion", "bitly"], doc_md=__doc__)
def ingest_bitly():
    @task(outlets=[RAW_BITLY_LINK_CLICKS], pool=api_pool(settings.BITLY_CONN_ID))
    def land_link_clicks() -> dict:
        from ingestion.run import land_bitly_link_clicks

        return land_share_measures(land_bitly_link_clicks, settings.BITLY_CONN_ID)

    wait_for_shares() >> land_link_clicks()


ingest_bitly()
