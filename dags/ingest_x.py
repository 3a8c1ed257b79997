"""Land X post metrics (public, and for posts younger than 30 days non-public and organic) into `raw.x__tweet_metrics`.

The posts are the X shares landed in `raw.advocacy__shares` (so the DAG first waits for its night's export), those
the refresh schedule says are due (SHAREWHY_REFRESH_SCHEDULE: nightly for a week, then weekly up to 90 days), looked
up 100 ids per call. A spent rate-limit window is waited out until X's announced reset (at most one 15-minute
window). The API's base URL and token come from the `x_api` connection.

Non-public metrics are read with each author's own OAuth 2.0 user token (token store, schema `consent`; refreshed,
rotating, through the `x_api` connection's OAuth app); posts of authors without a valid token get public metrics with
the app's token, flagged `metrics_access = 'app_public'` (no click-through rate from them).
"""

from airflow.sdk import task

from pipeline.api_loads import land_member_shard, land_token_status
from pipeline.assets import RAW_X_TWEET_METRICS
from pipeline.defaults import nightly, nightly_dag
from pipeline.landings import wait_for_shares
from pipeline.pools import api_pool
from sharewhy import settings


@nightly_dag(nightly("30 0 * * *"), tags=["ingestion", "x"], doc_md=__doc__)
def ingest_x():
    @task(pool=api_pool(settings.X_CONN_ID), map_index_template="{{ shard_label }}")
    def land_tweet_metrics(shard: int) -> dict:
        from ingestion.run import land_x_tweet_metrics

        return land_member_shard(land_x_tweet_metrics, settings.X_CONN_ID, "x", shard)

    # the raw Asset event once every shard landed: the build never starts on part of the members' posts
    @task(outlets=[RAW_X_TWEET_METRICS], pool=api_pool(settings.X_CONN_ID))
    def land_x_token_status() -> dict:
        return land_token_status("x")

    shards = land_tweet_metrics.expand(shard=list(range(settings.INGESTION_SHARDS)))
    wait_for_shares() >> shards >> land_x_token_status()


ingest_x()
