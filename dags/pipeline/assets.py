"""The Assets the DAGs produce and consume: one per raw table landed, one for the published `bi` schema."""

from airflow.sdk import Asset


def _table(schema: str, table: str) -> Asset:
    return Asset(name=f"{schema}.{table}", uri=f"sharewhy://warehouse/{schema}/{table}", group=schema)


RAW_ADVOCACY_SHARES = _table("raw", "advocacy__shares")
RAW_LINKEDIN_POST_ANALYTICS = _table("raw", "linkedin__member_post_analytics")
RAW_TYPEFORM_RESPONSES = _table("raw", "typeform__responses")
RAW_TABLES = (RAW_ADVOCACY_SHARES, RAW_LINKEDIN_POST_ANALYTICS, RAW_TYPEFORM_RESPONSES)

BI = Asset(name="bi", uri="sharewhy://warehouse/bi", group="bi")
