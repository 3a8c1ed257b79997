"""Land LinkedIn member-post analytics (cumulative counts per shared post) into `raw.linkedin__member_post_analytics`.

The posts to fetch are the night's and earlier shares landed in `raw.advocacy__shares`, so the DAG first waits
(rescheduling, no worker slot held) until the advocacy export of its night has landed: in a backfill, or when the
export is late, LinkedIn is never asked for a night whose shares are not known yet. The API's base URL and token come
from the `linkedin_api` connection; the `linkedin_api` pool keeps loads from spending the daily quota together.

Member post analytics are member-scoped: each post is read with its author's own OAuth token from the encrypted token
store (schema `consent`; keys from the `sharewhy_token_keys` connection or SHAREWHY_TOKEN_KEYS; refreshed through the
OAuth app of the `linkedin_api` connection: client id in `login`, `extra.client_secret`), members concurrently. A
member whose token is missing or refused costs that member's posts (quarantined with the reason), never the night.
The night's token statuses land in `raw.consent__member_token_status` (consent coverage in `bi.consent_coverage`).
"""

from airflow.sdk import task

from pipeline.api_loads import land_member_shard, land_token_status
from pipeline.assets import RAW_LINKEDIN_POST_ANALYTICS
from pipeline.defaults import nightly, nightly_dag
from pipeline.landings import wait_for_shares
from pipeline.pools import api_pool
from sharewhy import settings


@nightly_dag(nightly("30 0 * * *"), tags=["ingestion", "linkedin"], doc_md=__doc__)
def ingest_linkedin():
    @task(pool=api_pool(settings.LINKEDIN_CONN_ID), map_index_template="{{ shard_label }}")
    def land_member_post_analytics(shard: int) -> dict:
        from ingestion.run import land_linkedin_post_analytics

        return land_member_shard(land_linkedin_post_analytics, settings.LINKEDIN_CONN_ID, "linkedin", shard)

    # the raw Asset event once every shard landed: the build never starts on part of the members' posts
    @task(outlets=[RAW_LINKEDIN_POST_ANALYTICS], pool=api_pool(settings.LINKEDIN_CONN_ID))
    def land_linkedin_token_status() -> dict:
        return land_token_status("linkedin")

    shards = land_member_post_analytics.expand(shard=list(range(settings.INGESTION_SHARDS)))
    wait_for_shares() >> shards >> land_linkedin_token_status()


ingest_linkedin()
