"""Suites over the raw layer: what ingestion landed is what the contract (`ingestion/raw_schema.sql`, the spec's
payload shapes) promises, before dbt builds anything from it.

Which rows are audited: the rows that arrived since the last audit the table's suite passed
(`expectations.arrivals`, which says why that is sound: raw is append-only, so a row a passed audit checked stays
checked; a failed audit moves nothing, so a failed night's rows are read again). Of those:
- `raw.advocacy__shares`, `raw.typeform__responses`, `raw.hr__roster`, `raw.bitly__link_clicks`,
  `raw.qualtrics__responses` and `raw.linkedin__organization_daily_statistics`: every arrived row.
- Cumulative sources, observed again night after night — `raw.linkedin__member_post_analytics`,
  `raw.x__tweet_metrics`, `raw.linkedin__organization_post_statistics` — and `raw.surveymonkey__responses` (a
  response edited later lands again): the payload checks cover the latest row of each key with a row arrived, and
  the counter rule compares that row with the key's previous observation, however old. A bad value that a later
  row corrected no longer blocks the gate; a bad value still in use does.
- Per table, not per row: the columns, a unique index on the table's key (PostgreSQL enforces uniqueness; the
  rule checks the constraint is there instead of grouping every row), at least one row (shares, LinkedIn), and
  freshness: the newest `_extracted_at` (read through its index).

Sources a tenant may not use (`OPTIONAL`: the HR roster, X, Bitly, SurveyMonkey, Qualtrics, the LinkedIn page
statistics). `ingestion/raw_schema.sql` creates every raw table for every tenant, so an unused source normally is
an empty table: their suites ask for no rows (every rule reports offending rows, and freshness has no verdict on
an empty table), so an empty table passes. A table that does not exist at all (a warehouse whose raw schema
predates the source) is skipped by the audit, which says so in its summary (`AuditResult.skipped`), instead of
GX failing on the missing table: the absence of a source is configuration, not bad data, and the build does not
read what is not there. A source that is in use and stops landing fails its freshness expectation. The sources
every tenant has (the advocacy export, LinkedIn member analytics, Typeform) stay required: a missing table is an
error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.arrivals import (
    arrived,
    arrived_rows,
    counters_do_not_fall,
    has_rows,
    newest_of_arrived,
    unique_key,
)
from expectations.instrument import item_of, items_relation, scales_text, survey_items
from expectations.rules import any_of, checks, freshness, freshness_if_set, rule, sql_list, warning
from expectations.thresholds import Thresholds
from sharewhy import settings

if TYPE_CHECKING:
    import great_expectations as gx

SHARES = f"{settings.RAW_SCHEMA}.advocacy__shares"
LINKEDIN = f"{settings.RAW_SCHEMA}.linkedin__member_post_analytics"
TYPEFORM = f"{settings.RAW_SCHEMA}.typeform__responses"
HR_ROSTER = f"{settings.RAW_SCHEMA}.hr__roster"
X_METRICS = f"{settings.RAW_SCHEMA}.x__tweet_metrics"
BITLY_CLICKS = f"{settings.RAW_SCHEMA}.bitly__link_clicks"
SURVEYMONKEY = f"{settings.RAW_SCHEMA}.surveymonkey__responses"
SURVEYMONKEY_DETAILS = f"{settings.RAW_SCHEMA}.surveymonkey__survey_details"
QUALTRICS = f"{settings.RAW_SCHEMA}.qualtrics__responses"
LINKEDIN_ORGANIZATION_DAILY = f"{settings.RAW_SCHEMA}.linkedin__organization_daily_statistics"
LINKEDIN_ORGANIZATION_POSTS = f"{settings.RAW_SCHEMA}.linkedin__organization_post_statistics"

#: Raw tables of sources a tenant may not use: audited when present (empty passes), skipped when absent.
OPTIONAL = frozenset(
    {
        HR_ROSTER,
        X_METRICS,
        BITLY_CLICKS,
        SURVEYMONKEY,
        SURVEYMONKEY_DETAILS,
        QUALTRICS,
        LINKEDIN_ORGANIZATION_DAILY,
        LINKEDIN_ORGANIZATION_POSTS,
    }
)

LOAD_METADATA = ("_load_id", "_extracted_at", "_logical_date", "_request")

#: The advocacy export's columns (spec: "File drop"), keys of `advocacy__shares.payload`, by JSON type.
SHARE_STRING_FIELDS = (
    "share_id",
    "employee_id",
    "content_id",
    "network",
    "post_id",
    "shared_at",
    "tracking_link",
    "share_mode",
)
SHARE_FIELDS = (*SHARE_STRING_FIELDS, "copy_edited", "campaign", "audience_size")
#: Columns a later version of the export added (older files lack them): allowed in the payload, never required, and
#: no blocking rule reads their values (the views show a missing content type as `unknown`).
SHARE_OPTIONAL_FIELDS = ("content_title", "content_type")
SHARE_MODES = ("manual", "scheduled")

#: LinkedIn memberCreatorPostAnalytics query types (spec: "Simulator HTTP"; LINK_CLICKS from version 202604).
METRIC_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS")

#: Regular expressions for the rules' SQL (braces doubled: GX formats the query to substitute `{batch}`).
ISO_TIMESTAMP = (
    r"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]+)?(Z|[+-][0-9]{{2}}:[0-9]{{2}})$"
)
WHOLE_NUMBER = "^-?[0-9]+$"
COUNT = "^[0-9]+$"  # a non-negative whole number
ISO_DATE = r"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$"
#: Bitly's bucket dates: `2026-11-25T00:00:00+0000` (offset without a colon) or ISO 8601.
BITLY_DATE = (
    r"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]+)?(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$"
)
EMAIL = "^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$"
BITLINK = "^[a-z0-9.-]+[.][a-z]+/[A-Za-z0-9_-]+$"
BUCKET_DATE = "payload ->> 'date'"
POST_URN = "^urn:li:(share|ugcPost):[0-9]+$"
ORGANIZATION_URN = "^urn:li:organization:[0-9]+$"

#: The HR roster export's columns (spec: HR roster file drop): keys of `hr__roster.payload`. All strings;
#: `manager` (empty for the top of the hierarchy) and `location` may be null.
ROSTER_STRING_FIELDS = ("employee_id", "email", "team", "department", "start_date")
ROSTER_OPTIONAL_FIELDS = ("manager", "location")

#: X API v2 `public_metrics` (`bookmark_count` and `impression_count` are newer: optional) and the objects holding
#: counts (`non_public_metrics` and `organic_metrics` only for posts younger than 30 days).
X_PUBLIC_METRICS = ("retweet_count", "reply_count", "like_count", "quote_count")
X_METRIC_OBJECTS = ("public_metrics", "non_public_metrics", "organic_metrics")

#: organizationalEntityShareStatistics `totalShareStatistics` counts (the mention counts are newer: optional).
SHARE_STATISTICS_COUNTS = (
    "impressionCount",
    "uniqueImpressionsCount",
    "clickCount",
    "likeCount",
    "commentCount",
    "shareCount",
)


def _columns(*columns: str) -> gx.expectations.ExpectTableColumnsToMatchSet:
    """The table's columns as `ingestion/raw_schema.sql` creates them (which also makes every one NOT NULL)."""
    import great_expectations as gx

    return gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=True)


def advocacy_shares_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    payload_type_errors = [
        *(f"jsonb_typeof(payload -> '{field}') is distinct from 'string'" for field in SHARE_STRING_FIELDS),
        "jsonb_typeof(payload -> 'copy_edited') is distinct from 'boolean'",
        "coalesce(jsonb_typeof(payload -> 'campaign'), 'missing') not in ('string', 'null')",
        "jsonb_typeof(payload -> 'audience_size') is distinct from 'number'",
        f"(payload ->> 'audience_size') !~ '{WHOLE_NUMBER}'",
        f"(payload ->> 'shared_at') !~ '{ISO_TIMESTAMP}'",
    ]
    shared_at = (
        f"case when (payload ->> 'shared_at') ~ '{ISO_TIMESTAMP}' then (payload ->> 'shared_at')::timestamptz end"
    )
    audience = (
        f"case when (payload ->> 'audience_size') ~ '{WHOLE_NUMBER}' then (payload ->> 'audience_size')::numeric end"
    )
    new = arrived(SHARES)
    return [
        _columns("share_id", "payload", *LOAD_METADATA),
        has_rows(),
        unique_key(SHARES, ("share_id",)),
        rule(
            "payload has exactly the export's columns (the optional content_title / content_type may be absent)",
            f"select share_id, payload from {new} where case when jsonb_typeof(payload) = 'object'"
            f" then not (payload ?& array[{sql_list(SHARE_FIELDS)}])"
            f" or (payload - array[{sql_list((*SHARE_FIELDS, *SHARE_OPTIONAL_FIELDS))}]) <> jsonb_build_object()"
            " else true end",
        ),
        rule(
            "payload values have the export's types (strings, copy_edited boolean, campaign string or null,"
            " audience_size integer, shared_at ISO 8601)",
            f"select share_id, payload from {new} where {any_of(payload_type_errors)}",
        ),
        rule(
            "payload share_id is the row's share_id",
            f"select share_id, payload ->> 'share_id' as payload_share_id from {new}"
            " where payload ->> 'share_id' is distinct from share_id",
        ),
        rule(
            f"network is one of {', '.join(thresholds.allowed_networks)}; share_mode is one of {', '.join(SHARE_MODES)}",
            f"select share_id, payload ->> 'network' as network, payload ->> 'share_mode' as share_mode from {new}"
            f" where (payload ->> 'network') not in ({sql_list(thresholds.allowed_networks)})"
            f" or (payload ->> 'share_mode') not in ({sql_list(SHARE_MODES)})",
        ),
        rule(
            "post_id of a LinkedIn share is a share or ugcPost URN",
            f"select share_id, payload ->> 'post_id' as post_id from {new}"
            " where payload ->> 'network' = 'linkedin' and (payload ->> 'post_id') !~ '^urn:li:(share|ugcPost):[0-9]+$'",
        ),
        rule(
            f"audience_size between 0 and {thresholds.max_audience_size}",
            f"select share_id, payload -> 'audience_size' as audience_size from {new}"
            f" where {audience} not between 0 and {int(thresholds.max_audience_size)}",
        ),
        rule(
            "shared_at is not after the row was extracted",
            f"select share_id, payload ->> 'shared_at' as shared_at, _extracted_at from {new}"
            f" where {shared_at} > _extracted_at",
        ),
        freshness(thresholds.shares_max_age_hours),
    ]


def linkedin_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    new = arrived(LINKEDIN)
    latest = newest_of_arrived(LINKEDIN, ("post_urn", "metric_type")) + " "
    count = f"case when (payload ->> 'count') ~ '{WHOLE_NUMBER}' then (payload ->> 'count')::numeric end"
    names_post = (
        "case when jsonb_typeof(payload -> 'targetEntity') = 'object'"
        " then exists (select from jsonb_each_text(payload -> 'targetEntity') as entity where entity.value = post_urn)"
        " else false end"
    )
    names_metric = (
        "case jsonb_typeof(payload -> 'metricType')"
        " when 'string' then payload ->> 'metricType' = metric_type"
        " when 'object' then exists (select from jsonb_each_text(payload -> 'metricType') as metric"
        " where metric.value = metric_type)"
        " else false end"
    )
    return [
        _columns("post_urn", "metric_type", "payload", *LOAD_METADATA),
        has_rows(),
        unique_key(LINKEDIN, ("post_urn", "metric_type", "_logical_date")),
        checks(
            f"metric_type is one of {', '.join(METRIC_TYPES)}; post_urn is a share or ugcPost URN",
            ("post_urn", "metric_type", "_logical_date"),
            {
                "metric_type is a metric": f"metric_type in ({sql_list(METRIC_TYPES)})",
                "post_urn is a share or ugcPost URN": f"post_urn ~ '{POST_URN}'",
            },
            source=new,
        ),
        rule(
            "count of each post × metric's latest night is an integer",
            latest + "select post_urn, metric_type, _logical_date, payload -> 'count' as count from latest"
            f" where jsonb_typeof(payload -> 'count') is distinct from 'number' or (payload ->> 'count') !~ '{WHOLE_NUMBER}'",
        ),
        rule(
            "count of each post × metric's latest night is not negative",
            latest + f"select post_urn, metric_type, _logical_date, {count} as count from latest where {count} < 0",
        ),
        rule(
            "payload names the row's metric (metricType)",
            latest + "select post_urn, metric_type, _logical_date, payload -> 'metricType' as metric_type_in_payload"
            f" from latest where not ({names_metric})",
        ),
        # A warning, not a blocker: LinkedIn documents the element as count, metricType and dateRange (its `q=me`
        # example); that a `q=entity` element names its post is nowhere documented. The loader keys the row by the
        # post it asked for, so nothing downstream reads `targetEntity`.
        warning(
            rule(
                "payload names the row's post (targetEntity) — observed, not documented: a warning",
                latest + "select post_urn, metric_type, _logical_date, payload -> 'targetEntity' as target_entity"
                f" from latest where not ({names_post})",
            )
        ),
        # the shares of tonight's posts are looked up as an array in the shares' index on post_id: PostgreSQL, not
        # knowing how few the posts are, planned `not exists` as an anti-join reading every share (+11 s at 10M)
        rule(
            "every post counted is a share in raw.advocacy__shares",
            latest + "select distinct post_urn from latest except"
            f" select payload ->> 'post_id' from {SHARES}"
            " where payload ->> 'post_id' = any(array(select distinct post_urn from latest))",
        ),
        counters_do_not_fall(
            thresholds,
            LINKEDIN,
            ("post_urn", "metric_type"),
            ("post_urn", "metric_type"),
            f"select post_urn, metric_type, _logical_date as night, {count} as count from recent",
        ),
        rule(
            "_logical_date is not after the day of extraction",
            f"select post_urn, metric_type, _logical_date, _extracted_at from {new}"
            " where _logical_date > (_extracted_at at time zone 'UTC')::date",
        ),
        freshness(thresholds.linkedin_max_age_hours),
    ]


def _likert_description(scales: str) -> str:
    return f"Likert: answers to the survey instrument's items are whole numbers on the item's scale ({scales})"


def typeform_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    items = survey_items(source="typeform")
    item = item_of("answers.form_id", "(answers.answer -> 'field' ->> 'ref')")
    number = "answers.answer ->> 'number'"
    within_scale = (
        f"case when jsonb_typeof(answers.answer -> 'number') = 'number' and {number} ~ '{WHOLE_NUMBER}'"
        f" then ({number})::numeric between items.scale_min and items.scale_max else false end"
    )
    landed_at = (
        f"case when (payload ->> 'landed_at') ~ '{ISO_TIMESTAMP}' then (payload ->> 'landed_at')::timestamptz end"
    )
    new = arrived(TYPEFORM)
    checks: list[gx.expectations.Expectation] = [
        _columns("form_id", "response_token", "submitted_at", "payload", *LOAD_METADATA),
        unique_key(TYPEFORM, ("form_id", "response_token")),
        rule(
            "payload has the response's shape (token is the row's response_token, answers an array)",
            "select form_id, response_token, payload ->> 'token' as token,"
            f" jsonb_typeof(payload -> 'answers') as answers_type from {new}"
            " where payload ->> 'token' is distinct from response_token"
            " or jsonb_typeof(payload -> 'answers') is distinct from 'array'",
        ),
        rule(
            _likert_description(scales_text(items)),
            "with answers as (select responses.form_id, responses.response_token, answer"
            f" from {arrived(TYPEFORM, 'responses')} cross join lateral jsonb_array_elements(case when"
            " jsonb_typeof(responses.payload -> 'answers') = 'array' then responses.payload -> 'answers'"
            " else '[]'::jsonb end) as answer),"
            f" instrument_items (survey_id, item_key, scale_min, scale_max) as {items_relation(items)}"
            " select answers.form_id, answers.response_token, items.item_key,"
            " answers.answer -> 'number' as answer, items.scale_min, items.scale_max"
            f" from answers join lateral {item} as items on true"
            f" where not ({within_scale})",
        ),
        rule(
            "landed_at ≤ submitted_at ≤ the row's extraction",
            f"select form_id, response_token, {landed_at} as landed_at, submitted_at, _extracted_at from {new}"
            f" where submitted_at > _extracted_at or {landed_at} > submitted_at",
        ),
    ]
    if thresholds.typeform_max_age_hours is not None:
        checks.append(freshness(thresholds.typeform_max_age_hours))
    return checks


# --- sources a tenant may not use ----------------------------------------------------------------------------------


def _iso(expression: str, pattern: str = ISO_TIMESTAMP) -> str:
    """`expression` (text) as timestamptz when it matches `pattern`, else null (a cast never fails the query)."""
    return f"case when ({expression}) ~ '{pattern}' then ({expression})::timestamptz end"


def _number(expression: str, pattern: str = WHOLE_NUMBER) -> str:
    """`expression` (jsonb) as numeric when it is a JSON number matching `pattern`, else null."""
    return (
        f"case when jsonb_typeof({expression}) = 'number' and ({expression} #>> '{{{{}}}}') ~ '{pattern}'"
        f" then ({expression} #>> '{{{{}}}}')::numeric end"
    )


def _object_entries(payload_paths: tuple[str, ...], source: str = "payload") -> str:
    """A lateral of (`key`, `value`) over the members of the JSON objects at `payload -> path` (`path.member`
    keys), missing or non-object ones contributing nothing."""
    parts = [
        f"select '{path}.' || entry.key, entry.value from jsonb_each(case when jsonb_typeof({source} -> '{path}')"
        f" = 'object' then {source} -> '{path}' else '{{{{}}}}'::jsonb end) as entry"
        for path in payload_paths
    ]
    return "(" + " union all ".join(parts) + ")"


def _counts_are_counts(
    description: str,
    keys: tuple[str, ...],
    paths: tuple[str, ...],
    *,
    members: str = "",
    with_: str = "",
    source: str = "{batch}",
) -> gx.expectations.UnexpectedRowsExpectation:
    """Every member (whose name matches the regular expression `members`, if given) of the objects at
    `payload -> path` of `source` is a non-negative whole number."""
    row_keys = ", ".join(f"counted.{key}" for key in keys)
    chosen = f"field.key ~ '{members}' and " if members else ""
    return rule(
        description,
        f"{with_} select {row_keys}, field.key as count_name, field.value as count from {source} as counted"
        f" cross join lateral {_object_entries(paths, 'counted.payload')} as field (key, value)"
        f" where {chosen}(jsonb_typeof(field.value) is distinct from 'number'"
        f" or (field.value #>> '{{{{}}}}') !~ '{COUNT}')",
    )


def hr_roster_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    fields = (*ROSTER_STRING_FIELDS, *ROSTER_OPTIONAL_FIELDS)
    return [
        _columns("employee_id", "payload", *LOAD_METADATA),
        unique_key(HR_ROSTER, ("employee_id", "_logical_date")),
        checks(
            "payload is the export's row: exactly its columns, strings (manager, location may be null), the row's"
            " employee_id, an e-mail address, start_date an ISO date",
            ("employee_id", "_logical_date"),
            {
                "exactly the export's columns": f"jsonb_typeof(payload) = 'object' and payload ?& array[{sql_list(fields)}]"
                f" and (payload - array[{sql_list(fields)}]) = jsonb_build_object()",
                "strings": " and ".join(
                    [
                        f"jsonb_typeof(payload -> '{field}') is not distinct from 'string'"
                        for field in ROSTER_STRING_FIELDS
                    ]
                    + [
                        f"coalesce(jsonb_typeof(payload -> '{field}'), 'missing') in ('string', 'null')"
                        for field in ROSTER_OPTIONAL_FIELDS
                    ]
                ),
                "team and department not empty": "coalesce(payload ->> 'team', '') <> ''"
                " and coalesce(payload ->> 'department', '') <> ''",
                "payload employee_id is the row's": "payload ->> 'employee_id' is not distinct from employee_id",
                "email is an e-mail address": f"coalesce(payload ->> 'email', '') ~ '{EMAIL}'",
                "start_date is an ISO date": f"coalesce(payload ->> 'start_date', '') ~ '{ISO_DATE}'",
            },
            source=arrived(HR_ROSTER),
        ),
        *freshness_if_set(thresholds.hr_roster_max_age_hours),
    ]


def x_tweet_metrics_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    counts = (
        "select tweet_id, metric.key as metric, _logical_date as night,"
        f" {_number('metric.value')} as count from recent"
        f" cross join lateral {_object_entries(X_METRIC_OBJECTS)} as metric (key, value)"
    )
    optional_objects = " and ".join(
        f"coalesce(jsonb_typeof(payload -> '{name}'), 'object') = 'object'" for name in X_METRIC_OBJECTS[1:]
    )
    return [
        _columns("tweet_id", "metrics_access", "payload", *LOAD_METADATA),  # metrics_access: member consent (issue 13)
        unique_key(X_METRICS, ("tweet_id", "_logical_date")),
        checks(
            "payload of each tweet's latest night is the tweet: its id, created_at ISO 8601, public_metrics with the"
            " four public counts, non_public_metrics and organic_metrics objects when present",
            ("tweet_id", "_logical_date"),
            {
                "id is the row's tweet_id": "payload ->> 'id' is not distinct from tweet_id",
                "created_at is ISO 8601": f"coalesce(payload ->> 'created_at', '') ~ '{ISO_TIMESTAMP}'",
                "public_metrics has the public counts": "jsonb_typeof(payload -> 'public_metrics') = 'object'"
                f" and payload -> 'public_metrics' ?& array[{sql_list(X_PUBLIC_METRICS)}]",
                "metric objects are objects": optional_objects,
                "_logical_date not after the day of extraction": "_logical_date <= (_extracted_at at time zone 'UTC')::date",
            },
            source="latest",
            with_=newest_of_arrived(X_METRICS, ("tweet_id",)),
        ),
        _counts_are_counts(
            "counts of each tweet's latest night are non-negative whole numbers",
            ("tweet_id", "_logical_date"),
            X_METRIC_OBJECTS,
            with_=newest_of_arrived(X_METRICS, ("tweet_id",)),
            source="latest",
        ),
        counters_do_not_fall(thresholds, X_METRICS, ("tweet_id",), ("tweet_id", "metric"), counts),
        rule(
            f"every tweet counted is an X share in {SHARES}",
            f"select distinct tweets.tweet_id from {arrived(X_METRICS, 'tweets')} left join {SHARES} as shares"
            " on shares.payload ->> 'network' = 'x' and shares.payload ->> 'post_id' = tweets.tweet_id"
            " where shares.share_id is null",
        ),
        *freshness_if_set(thresholds.x_max_age_hours),
    ]


def bitly_link_clicks_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    bucket_day = f"(({_iso(BUCKET_DATE, BITLY_DATE)}) at time zone 'UTC')::date"
    return [
        _columns("bitlink", "click_date", "payload", *LOAD_METADATA),
        unique_key(BITLY_CLICKS, ("bitlink", "click_date")),
        checks(
            "payload is the day's bucket (clicks, date on the row's click_date); bitlink is domain/hash without a"
            " scheme; only complete days up to the logical date land",
            ("bitlink", "click_date"),
            {
                "bucket has clicks and date": "jsonb_typeof(payload) = 'object' and payload ?& array['clicks', 'date']",
                "date is the row's click_date": f"{bucket_day} is not distinct from click_date",
                "bitlink is domain/hash": f"bitlink ~ '{BITLINK}'",
                "click_date not after the logical date": "click_date <= _logical_date",
                "click_date complete when extracted": "click_date < (_extracted_at at time zone 'UTC')::date",
            },
            source=arrived(BITLY_CLICKS),
        ),
        rule(
            "clicks are non-negative whole numbers",
            f"select bitlink, click_date, payload -> 'clicks' as clicks from {arrived(BITLY_CLICKS)}"
            f" where jsonb_typeof(payload -> 'clicks') is distinct from 'number' or (payload ->> 'clicks') !~ '{COUNT}'",
        ),
        rule(
            f"every bitlink is the tracking link of a share in {SHARES}",
            f"select distinct clicks.bitlink from {arrived(BITLY_CLICKS, 'clicks')} left join {SHARES} as shares"
            " on shares.payload ->> 'tracking_link' = clicks.bitlink where shares.share_id is null",
        ),
        *freshness_if_set(thresholds.bitly_max_age_hours),
    ]


def _json_array(expression: str) -> str:
    """`expression` (jsonb) when it is an array, else an empty array (for `jsonb_array_elements`)."""
    return f"case when jsonb_typeof({expression}) = 'array' then {expression} else '[]'::jsonb end"


_ARRAY_ARRIVED_PAYLOAD_PAGES = _json_array("arrived.payload -> 'pages'")
_ARRAY_DETAILS_PAYLOAD_PAGES = _json_array("details.payload -> 'pages'")
_ARRAY_LATEST_PAYLOAD_PAGES = _json_array("latest.payload -> 'pages'")
_ARRAY_PAGE_VALUE_QUESTIONS = _json_array("page.value -> 'questions'")
_ARRAY_QUESTION_VALUE_ANSWERS_CHOICES = _json_array("question.value -> 'answers' -> 'choices'")
_CHOICE_POSITION = _number("choice.value -> 'position'")


#: The choices of each survey's latest `/details` landed: (survey_id, question_id, choice_id, position).
SURVEYMONKEY_CHOICES = (
    f"details as (select distinct on (survey_id) survey_id, payload from {SURVEYMONKEY_DETAILS}"
    " order by survey_id, date_modified desc, _extracted_at desc),"
    " choices as (select details.survey_id, question.value ->> 'id' as question_id, choice.value ->> 'id' as choice_id,"
    " choice.value -> 'position' as position from details"
    f" cross join lateral jsonb_array_elements({_ARRAY_DETAILS_PAYLOAD_PAGES}) as page (value)"
    f" cross join lateral jsonb_array_elements({_ARRAY_PAGE_VALUE_QUESTIONS}) as question (value)"
    f" cross join lateral jsonb_array_elements({_ARRAY_QUESTION_VALUE_ANSWERS_CHOICES}) as choice (value))"
)


def surveymonkey_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    items = survey_items(source="surveymonkey")
    item = item_of("latest.survey_id", "(question.value ->> 'id')")
    latest = newest_of_arrived(SURVEYMONKEY, ("survey_id", "response_id"), night="date_modified")
    modified = _iso("payload ->> 'date_modified'")
    created = _iso("payload ->> 'date_created'")
    position = _number("choices.position")
    answered = (
        "case when jsonb_typeof(question.value -> 'answers') = 'array'"
        " and jsonb_array_length(question.value -> 'answers') = 1"
        f" then coalesce({position} between 1 and items.scale_max - items.scale_min + 1, false) else false end"
    )
    return [
        _columns("survey_id", "response_id", "date_modified", "payload", *LOAD_METADATA),
        unique_key(SURVEYMONKEY, ("survey_id", "response_id", "date_modified")),
        checks(
            "payload of each response's latest version is the response: its id, survey_id and date_modified, pages,"
            " the employee_id custom variable, date_created ≤ date_modified ≤ the row's extraction",
            ("survey_id", "response_id", "date_modified"),
            {
                "id and survey_id are the row's": "payload ->> 'id' is not distinct from response_id"
                " and payload ->> 'survey_id' is not distinct from survey_id",
                "date_modified is the row's": f"{modified} is not distinct from date_modified",
                "pages is an array": "jsonb_typeof(payload -> 'pages') = 'array'",
                "employee_id custom variable": "jsonb_typeof(payload -> 'custom_variables' -> 'employee_id') = 'string'",
                "date_created <= date_modified <= extraction": f"{created} <= date_modified"
                " and date_modified <= _extracted_at",
            },
            source="latest",
            with_=latest,
        ),
        rule(
            "Likert: SurveyMonkey answers to the survey instrument's items are one choice of the question in the"
            f" survey's /details, at a position on the item's scale ({scales_text(items)}; position 1 = its lowest)",
            f"{latest}, instrument_items (survey_id, item_key, scale_min, scale_max) as {items_relation(items)},"
            f" {SURVEYMONKEY_CHOICES}"
            " select latest.survey_id, latest.response_id, question.value ->> 'id' as question_id,"
            " question.value -> 'answers' as answers, choices.position, items.scale_min, items.scale_max from latest"
            f" cross join lateral jsonb_array_elements({_ARRAY_LATEST_PAYLOAD_PAGES}) as page (value)"
            f" cross join lateral jsonb_array_elements({_ARRAY_PAGE_VALUE_QUESTIONS}) as question (value)"
            f" join lateral {item} as items on true"
            " left join choices on choices.survey_id = latest.survey_id"
            " and choices.question_id = question.value ->> 'id'"
            " and choices.choice_id = question.value -> 'answers' -> 0 ->> 'choice_id'"
            f" where not ({answered})",
        ),
        *freshness_if_set(thresholds.surveymonkey_max_age_hours),
    ]


def surveymonkey_details_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    modified = _iso("payload ->> 'date_modified'")
    choices = (
        "select arrived.survey_id, arrived.date_modified, arrived._logical_date, question.value ->> 'id' as question_id,"
        f" choice.value as choice from {arrived(SURVEYMONKEY_DETAILS)}"
        f" cross join lateral jsonb_array_elements({_ARRAY_ARRIVED_PAYLOAD_PAGES}) as page (value)"
        f" cross join lateral jsonb_array_elements({_ARRAY_PAGE_VALUE_QUESTIONS}) as question (value)"
        f" cross join lateral jsonb_array_elements({_ARRAY_QUESTION_VALUE_ANSWERS_CHOICES})"
        " as choice (value)"
    )
    return [
        _columns("survey_id", "date_modified", "payload", *LOAD_METADATA),
        unique_key(SURVEYMONKEY_DETAILS, ("survey_id", "date_modified", "_logical_date")),
        checks(
            "payload is the survey's details: its id and date_modified, pages an array, fetched on its night",
            ("survey_id", "date_modified", "_logical_date"),
            {
                "id is the row's survey_id": "payload ->> 'id' is not distinct from survey_id",
                "date_modified is the row's": f"{modified} is not distinct from date_modified",
                "pages is an array": "jsonb_typeof(payload -> 'pages') = 'array'",
                "_logical_date not after the day of extraction": "_logical_date <= (_extracted_at at time zone 'UTC')::date",
            },
            source=arrived(SURVEYMONKEY_DETAILS),
        ),
        rule(
            "choices have a string id and a whole-number position from 1",
            f"{choices} where jsonb_typeof(choice.value -> 'id') is distinct from 'string'"
            f" or not coalesce({_CHOICE_POSITION} >= 1, false)",
        ),
        *freshness_if_set(thresholds.surveymonkey_max_age_hours),
    ]


def qualtrics_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    items = survey_items(source="qualtrics")
    scales = scales_text(items)
    recorded = _iso("payload -> 'values' ->> 'recordedDate'")
    started = _iso("payload -> 'values' ->> 'startDate'")
    answer = "answers.answer"
    whole = f"jsonb_typeof({answer}) = 'number' and ({answer} #>> '{{{{}}}}') ~ '{WHOLE_NUMBER}'"
    # an instrument item: on its scale; any displayed question: among the choices it displayed
    on_scale = (
        f"case when {whole} then (items.item_key is null"
        f" or ({answer} #>> '{{{{}}}}')::numeric between items.scale_min and items.scale_max)"
        " and (jsonb_typeof(answers.choices) is distinct from 'array' or answers.choices @> jsonb_build_array("
        f"{answer})) else items.item_key is null and jsonb_typeof(answers.choices) is distinct from 'array' end"
    )
    scale_text = f"on the instrument item's scale ({scales}) and " if items else ""
    return [
        _columns("survey_id", "response_id", "recorded_date", "payload", *LOAD_METADATA),
        unique_key(QUALTRICS, ("survey_id", "response_id")),
        checks(
            "payload is the response: its responseId and recordedDate, values, displayedFields,"
            " startDate ≤ recordedDate ≤ the row's extraction",
            ("survey_id", "response_id"),
            {
                "responseId is the row's": "payload ->> 'responseId' is not distinct from response_id",
                "values and displayedFields": "jsonb_typeof(payload -> 'values') = 'object'"
                " and jsonb_typeof(payload -> 'displayedFields') = 'array'",
                "recordedDate is the row's": f"{recorded} is not distinct from recorded_date",
                "startDate <= recordedDate <= extraction": f"{started} <= recorded_date and recorded_date <= _extracted_at",
            },
            source=arrived(QUALTRICS),
        ),
        rule(
            f"Likert: Qualtrics answers to the displayed questions are whole numbers {scale_text}among the"
            " question's displayed choices",
            "with answers as (select responses.survey_id, responses.response_id, field.question,"
            " responses.payload -> 'values' -> field.question as answer,"
            f" responses.payload -> 'displayedValues' -> field.question as choices from {arrived(QUALTRICS, 'responses')}"
            " cross join lateral jsonb_array_elements_text(case when jsonb_typeof(responses.payload -> 'displayedFields')"
            " = 'array' then responses.payload -> 'displayedFields' else '[]'::jsonb end) as field (question)),"
            f" instrument_items (survey_id, item_key, scale_min, scale_max) as {items_relation(items)}"
            " select answers.survey_id, answers.response_id, answers.question, answers.answer, items.scale_min,"
            " items.scale_max from answers"
            f" left join lateral {item_of('answers.survey_id', 'answers.question')} as items on true"
            f" where answers.answer is not null and not ({on_scale})",
        ),
        *freshness_if_set(thresholds.qualtrics_max_age_hours),
    ]


def _share_statistics_checks() -> dict[str, str]:
    statistic = {
        name: _number(f"payload -> 'totalShareStatistics' -> '{name}'")
        for name in ("uniqueImpressionsCount", "impressionCount")
    }
    engagement = _number("payload -> 'totalShareStatistics' -> 'engagement'", "^[0-9.eE+-]+$")
    return {
        "totalShareStatistics has the counts": "jsonb_typeof(payload -> 'totalShareStatistics') = 'object' and"
        f" payload -> 'totalShareStatistics' ?& array[{sql_list((*SHARE_STATISTICS_COUNTS, 'engagement'))}]",
        "engagement is a ratio >= 0": f"{engagement} >= 0",
        "unique impressions <= impressions": f"{statistic['uniqueImpressionsCount']} <= {statistic['impressionCount']}",
    }


def linkedin_organization_daily_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    day_start = "(extract(epoch from day::timestamp at time zone 'UTC') * 1000)"
    start, end = (_number(f"payload -> 'timeRange' -> '{bound}'") for bound in ("start", "end"))
    return [
        _columns("organization_urn", "day", "payload", *LOAD_METADATA),
        unique_key(LINKEDIN_ORGANIZATION_DAILY, ("organization_urn", "day")),
        checks(
            "payload is the page's statistics of the row's day: its organization, a one-day timeRange starting at the"
            " day (UTC), the share statistics; no day after the logical date",
            ("organization_urn", "day"),
            {
                "organization_urn is an organization URN": f"organization_urn ~ '{ORGANIZATION_URN}'",
                "organizationalEntity is the row's": "payload ->> 'organizationalEntity' is not distinct from"
                " organization_urn",
                "timeRange is the day": f"{start} = {day_start} and {end} = {day_start} + 86400000",
                **_share_statistics_checks(),
                "day not after the logical date": "day <= _logical_date",
            },
            source=arrived(LINKEDIN_ORGANIZATION_DAILY),
        ),
        _counts_are_counts(
            "counts of each day are non-negative whole numbers",
            ("organization_urn", "day"),
            ("totalShareStatistics",),
            members="Count$",
            source=arrived_rows(LINKEDIN_ORGANIZATION_DAILY),
        ),
        *freshness_if_set(thresholds.linkedin_organization_daily_max_age_hours),
    ]


def linkedin_organization_posts_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    latest = newest_of_arrived(LINKEDIN_ORGANIZATION_POSTS, ("post_urn",))
    counts = (
        "select post_urn, field.key as metric, _logical_date as night,"
        f" {_number('field.value')} as count from recent"
        " cross join lateral jsonb_each(case when jsonb_typeof(payload -> 'totalShareStatistics') = 'object'"
        " then payload -> 'totalShareStatistics' else '{{}}'::jsonb end) as field"
        f" where field.key in ({sql_list(SHARE_STATISTICS_COUNTS)})"
    )
    return [
        _columns("post_urn", "payload", *LOAD_METADATA),
        unique_key(LINKEDIN_ORGANIZATION_POSTS, ("post_urn", "_logical_date")),
        checks(
            "payload of each post's latest night is the post's lifetime statistics: the post (share or ugcPost),"
            " its organization, the share statistics",
            ("post_urn", "_logical_date"),
            {
                "post_urn is a share or ugcPost URN": f"post_urn ~ '{POST_URN}'",
                "payload names the row's post": "coalesce(payload ->> 'share', payload ->> 'ugcPost')"
                " is not distinct from post_urn",
                "organizationalEntity is an organization URN": f"coalesce(payload ->> 'organizationalEntity', '')"
                f" ~ '{ORGANIZATION_URN}'",
                **_share_statistics_checks(),
                "_logical_date not after the day of extraction": "_logical_date <= (_extracted_at at time zone 'UTC')::date",
            },
            source="latest",
            with_=latest,
        ),
        _counts_are_counts(
            "counts of each post's latest night are non-negative whole numbers",
            ("post_urn", "_logical_date"),
            ("totalShareStatistics",),
            members="Count$",
            with_=latest,
            source="latest",
        ),
        counters_do_not_fall(thresholds, LINKEDIN_ORGANIZATION_POSTS, ("post_urn",), ("post_urn", "metric"), counts),
        *freshness_if_set(thresholds.linkedin_organization_posts_max_age_hours),
    ]
