"""The Assets the DAGs produce and consume: one per raw table landed, one for the published `bi` schema."""

from airflow.sdk import Asset


def _table(schema: str, table: str) -> Asset:
    return Asset(name=f"{schema}.{table}", uri=f"sharewhy://warehouse/{schema}/{table}", group=schema)


RAW_ADVOCACY_SHARES = _table("raw", "advocacy__shares")
RAW_LINKEDIN_POST_ANALYTICS = _table("raw", "linkedin__member_post_analytics")
RAW_TYPEFORM_RESPONSES = _table("raw", "typeform__responses")
RAW_HR_ROSTER = _table("raw", "hr__roster")
RAW_X_TWEET_METRICS = _table("raw", "x__tweet_metrics")
RAW_BITLY_LINK_CLICKS = _table("raw", "bitly__link_clicks")
RAW_SURVEYMONKEY_RESPONSES = _table("raw", "surveymonkey__responses")
RAW_SURVEYMONKEY_SURVEY_DETAILS = _table("raw", "surveymonkey__survey_details")
RAW_QUALTRICS_RESPONSES = _table("raw", "qualtrics__responses")
RAW_LINKEDIN_ORGANIZATION_DAILY_STATISTICS = _table("raw", "linkedin__organization_daily_statistics")
RAW_LINKEDIN_ORGANIZATION_POST_STATISTICS = _table("raw", "linkedin__organization_post_statistics")
RAW_TABLES = (
    RAW_ADVOCACY_SHARES,
    RAW_LINKEDIN_POST_ANALYTICS,
    RAW_TYPEFORM_RESPONSES,
    RAW_HR_ROSTER,
    RAW_X_TWEET_METRICS,
    RAW_BITLY_LINK_CLICKS,
    RAW_SURVEYMONKEY_RESPONSES,
    RAW_SURVEYMONKEY_SURVEY_DETAILS,
    RAW_QUALTRICS_RESPONSES,
    RAW_LINKEDIN_ORGANIZATION_DAILY_STATISTICS,
    RAW_LINKEDIN_ORGANIZATION_POST_STATISTICS,
)
#: One survey instrument, three alternative vendors: a tenant lands its responses through one of them.
RAW_SURVEY_RESPONSES = (RAW_TYPEFORM_RESPONSES, RAW_SURVEYMONKEY_RESPONSES, RAW_QUALTRICS_RESPONSES)
#: A vendor's survey catalogue, landed by its DAG just before its responses (so the responses' event implies it):
#: not a condition of the transform of its own (a tenant not on that vendor never lands it).
RAW_SURVEY_CATALOGUES = (RAW_SURVEYMONKEY_SURVEY_DETAILS,)

BI = Asset(name="bi", uri="sharewhy://warehouse/bi", group="bi")

#: Survey submissions announced by a webhook (`sharewhy webhooks serve` → POST /api/v2/assets/events). Not a table:
#: an event that something arrived, carrying ids and times only (never answers). `ingest_typeform` runs on it.
TYPEFORM_SUBMISSIONS = Asset(name="typeform.submissions", uri="sharewhy://events/typeform/submissions", group="events")
