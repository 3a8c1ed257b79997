"""Suites over the raw layer: what ingestion landed is what the contract (`ingestion/raw_schema.sql`, the spec's
payload shapes) promises, before dbt builds anything from it.

Which rows are audited: the rows the night's build reads.
- `raw.advocacy__shares` and `raw.typeform__responses`: every row (dbt reads all of them, every night).
- `raw.linkedin__member_post_analytics`: dbt reads each post × metric's latest observation only (counters are
  cumulative), so the payload checks cover those rows, and the counter rule compares each post × metric observed
  on the newest night with its previous observation. A bad count that a later night corrected no longer blocks
  the gate; a bad count still in use does.
Freshness looks at the newest `_extracted_at` of each table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.instrument import SurveyItem, survey_items
from expectations.rules import any_of, freshness, rule, sql_list
from expectations.thresholds import Thresholds
from sharewhy import settings

if TYPE_CHECKING:
    import great_expectations as gx

SHARES = f"{settings.RAW_SCHEMA}.advocacy__shares"
LINKEDIN = f"{settings.RAW_SCHEMA}.linkedin__member_post_analytics"
TYPEFORM = f"{settings.RAW_SCHEMA}.typeform__responses"

LOAD_METADATA = ("_load_id", "_extracted_at", "_logical_date", "_request")

#: The advocacy export's columns (spec: "File drop"), keys of `advocacy__shares.payload`, by JSON type.
SHARE_STRING_FIELDS = (
    "share_id", "employee_id", "content_id", "network", "post_id", "shared_at", "tracking_link", "share_mode",
)
SHARE_FIELDS = (*SHARE_STRING_FIELDS, "copy_edited", "campaign", "audience_size")
SHARE_MODES = ("manual", "scheduled")

#: LinkedIn memberCreatorPostAnalytics query types (spec: "Simulator HTTP"; LINK_CLICKS from version 202604).
METRIC_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS")

#: Regular expressions for the rules' SQL (braces doubled: GX formats the query to substitute `{batch}`).
ISO_TIMESTAMP = r"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]+)?(Z|[+-][0-9]{{2}}:[0-9]{{2}})$"
WHOLE_NUMBER = "^-?[0-9]+$"


def _columns(*columns: str) -> gx.expectations.ExpectTableColumnsToMatchSet:
    """The table's columns as `ingestion/raw_schema.sql` creates them (which also makes every one NOT NULL)."""
    import great_expectations as gx

    return gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=True)


def advocacy_shares_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    payload_type_errors = [
        *(f"jsonb_typeof(payload -> '{field}') is distinct from 'string'" for field in SHARE_STRING_FIELDS),
        "jsonb_typeof(payload -> 'copy_edited') is distinct from 'boolean'",
        "coalesce(jsonb_typeof(payload -> 'campaign'), 'missing') not in ('string', 'null')",
        "jsonb_typeof(payload -> 'audience_size') is distinct from 'number'",
        f"(payload ->> 'audience_size') !~ '{WHOLE_NUMBER}'",
        f"(payload ->> 'shared_at') !~ '{ISO_TIMESTAMP}'",
    ]
    shared_at = f"case when (payload ->> 'shared_at') ~ '{ISO_TIMESTAMP}' then (payload ->> 'shared_at')::timestamptz end"
    audience = f"case when (payload ->> 'audience_size') ~ '{WHOLE_NUMBER}' then (payload ->> 'audience_size')::numeric end"
    return [
        _columns("share_id", "payload", *LOAD_METADATA),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        gx.expectations.ExpectColumnValuesToBeUnique(column="share_id"),
        rule(
            "payload has exactly the export's columns",
            "select share_id, payload from {batch} where case when jsonb_typeof(payload) = 'object'"
            f" then not (payload ?& array[{sql_list(SHARE_FIELDS)}])"
            f" or (payload - array[{sql_list(SHARE_FIELDS)}]) <> jsonb_build_object() else true end",
        ),
        rule(
            "payload values have the export's types (strings, copy_edited boolean, campaign string or null,"
            " audience_size integer, shared_at ISO 8601)",
            f"select share_id, payload from {{batch}} where {any_of(payload_type_errors)}",
        ),
        rule("payload share_id is the row's share_id",
             "select share_id, payload ->> 'share_id' as payload_share_id from {batch}"
             " where payload ->> 'share_id' is distinct from share_id"),
        rule(
            f"network is one of {', '.join(thresholds.allowed_networks)}; share_mode is one of {', '.join(SHARE_MODES)}",
            "select share_id, payload ->> 'network' as network, payload ->> 'share_mode' as share_mode from {batch}"
            f" where (payload ->> 'network') not in ({sql_list(thresholds.allowed_networks)})"
            f" or (payload ->> 'share_mode') not in ({sql_list(SHARE_MODES)})",
        ),
        rule(
            "post_id of a LinkedIn share is a share or ugcPost URN",
            "select share_id, payload ->> 'post_id' as post_id from {batch}"
            " where payload ->> 'network' = 'linkedin' and (payload ->> 'post_id') !~ '^urn:li:(share|ugcPost):[0-9]+$'",
        ),
        rule(
            f"audience_size between 0 and {thresholds.max_audience_size}",
            f"select share_id, payload -> 'audience_size' as audience_size from {{batch}}"
            f" where {audience} not between 0 and {int(thresholds.max_audience_size)}",
        ),
        rule(
            "shared_at is not after the row was extracted",
            f"select share_id, payload ->> 'shared_at' as shared_at, _extracted_at from {{batch}}"
            f" where {shared_at} > _extracted_at",
        ),
        freshness(thresholds.shares_max_age_hours),
    ]


def linkedin_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    latest = (
        "with latest as (select distinct on (post_urn, metric_type) * from {batch}"
        " order by post_urn, metric_type, _logical_date desc) "
    )
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
    tolerance = (
        f"greatest({int(thresholds.counter_drop_tolerance_abs)},"
        f" {float(thresholds.counter_drop_tolerance_ratio)!r} * previous_count)"
    )
    return [
        _columns("post_urn", "metric_type", "payload", *LOAD_METADATA),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["post_urn", "metric_type", "_logical_date"]),
        gx.expectations.ExpectColumnValuesToBeInSet(column="metric_type", value_set=list(METRIC_TYPES)),
        gx.expectations.ExpectColumnValuesToMatchRegex(column="post_urn", regex="^urn:li:(share|ugcPost):[0-9]+$"),
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
            "payload names the row's post (targetEntity) and metric (metricType)",
            latest + "select post_urn, metric_type, _logical_date, payload -> 'targetEntity' as target_entity,"
            f" payload -> 'metricType' as metric_type_in_payload from latest where not ({names_post}) or not ({names_metric})",
        ),
        rule(
            "every post counted is a share in raw.advocacy__shares",
            latest + "select distinct post_urn from latest where not exists"
            f" (select from {SHARES} as shares where shares.payload ->> 'post_id' = latest.post_urn)",
        ),
        rule(
            f"cumulative counts do not fall from the previous night by more than"
            f" max({thresholds.counter_drop_tolerance_abs}, {thresholds.counter_drop_tolerance_ratio:g} × previous)",
            f"with counts as (select post_urn, metric_type, _logical_date as night, {count} as count from {{batch}}),"
            " compared as (select *, lag(count) over night_order as previous_count,"
            " lag(night) over night_order as previous_night from counts"
            " window night_order as (partition by post_urn, metric_type order by night))"
            " select post_urn, metric_type, previous_night, previous_count, night, count from compared"
            f" where night = (select max(night) from counts) and previous_count - count > {tolerance}",
        ),
        rule(
            "_logical_date is not after the day of extraction",
            "select post_urn, metric_type, _logical_date, _extracted_at from {batch}"
            " where _logical_date > (_extracted_at at time zone 'UTC')::date",
        ),
        freshness(thresholds.linkedin_max_age_hours),
    ]


def _likert_description(items: tuple[SurveyItem, ...]) -> str:
    scales = sorted({(item.scale_min, item.scale_max) for item in items})
    ranges = ", ".join(f"{low}–{high}" for low, high in scales)
    return f"Likert: answers to the survey instrument's items are whole numbers on the item's scale ({ranges})"


def typeform_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    items = survey_items()
    item_rows = ", ".join(f"('{item.question_ref}', {item.scale_min}, {item.scale_max})" for item in items)
    number = "answers.answer ->> 'number'"
    within_scale = (
        f"case when jsonb_typeof(answers.answer -> 'number') = 'number' and {number} ~ '{WHOLE_NUMBER}'"
        f" then ({number})::numeric between items.scale_min and items.scale_max else false end"
    )
    landed_at = (
        f"case when (payload ->> 'landed_at') ~ '{ISO_TIMESTAMP}' then (payload ->> 'landed_at')::timestamptz end"
    )
    checks = [
        _columns("form_id", "response_token", "submitted_at", "payload", *LOAD_METADATA),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["form_id", "response_token"]),
        rule(
            "payload has the response's shape (token is the row's response_token, answers an array)",
            "select form_id, response_token, payload ->> 'token' as token,"
            " jsonb_typeof(payload -> 'answers') as answers_type from {batch}"
            " where payload ->> 'token' is distinct from response_token"
            " or jsonb_typeof(payload -> 'answers') is distinct from 'array'",
        ),
        rule(
            _likert_description(items),
            "with answers as (select responses.form_id, responses.response_token, answer"
            " from {batch} as responses cross join lateral jsonb_array_elements(case when"
            " jsonb_typeof(responses.payload -> 'answers') = 'array' then responses.payload -> 'answers'"
            " else '[]'::jsonb end) as answer),"
            f" items (question_ref, scale_min, scale_max) as (values {item_rows})"
            " select answers.form_id, answers.response_token, items.question_ref,"
            " answers.answer -> 'number' as answer, items.scale_min, items.scale_max"
            " from answers join items on answers.answer -> 'field' ->> 'ref' = items.question_ref"
            f" where not ({within_scale})",
        ),
        rule(
            "landed_at ≤ submitted_at ≤ the row's extraction",
            f"select form_id, response_token, {landed_at} as landed_at, submitted_at, _extracted_at from {{batch}}"
            f" where submitted_at > _extracted_at or {landed_at} > submitted_at",
        ),
    ]
    if thresholds.typeform_max_age_hours is not None:
        checks.append(freshness(thresholds.typeform_max_age_hours))
    return checks
