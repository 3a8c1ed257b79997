-- Each LinkedIn post's counters per night it was observed: the cumulative count (a metric missing on a night
-- keeps its last reading; 0 before its first) and the night's delta, the count minus the previous observed
-- night's (the first night's delta is everything since the share). Deltas can be negative when LinkedIn
-- corrects a count downwards; they are kept as reported.
--
-- Incremental (delete+insert on post × night): a build recomputes only the posts with readings landed since the
-- previous build (with a lookback), from the earliest such night on — the deltas of the nights after a
-- backfilled night change too, and the whole history of those posts is read to carry counts forward.

{{
    config(
        materialized='incremental',
        unique_key=['post_urn', 'logical_date'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['post_urn', 'logical_date'], 'unique': true},
            {'columns': ['extracted_at']},
            {'columns': ['built_at']},
        ],
        post_hook=["{{ ensure_indexes(this, model.config.indexes) }}", "analyze {{ this }}"],
        on_schema_change='fail',
    )
}}

{%- set metrics = var('linkedin_post_metrics') %}

with

observations as (

    select * from {{ ref('stg_linkedin__member_post_analytics') }}

),

{% if is_incremental() %}
changed_posts as (

    -- straight from staging, not the `observations` CTE: a CTE read twice is materialised whole, and this reads
    -- the readings landed since through raw's index on _extracted_at (and this model's own on extracted_at)
    select
        post_urn,
        min(logical_date) as from_night
    from {{ ref('stg_linkedin__member_post_analytics') }}
    where extracted_at > (
            -- an empty table (a first build before any reading landed) takes everything
            select coalesce(max(extracted_at), '-infinity') - interval '{{ var("incremental_lookback_hours") }} hours'
            from {{ this }}
        )
    group by post_urn

),
{% endif %}

readings as (

    select
        observations.post_urn,
        observations.logical_date,
        max(observations.metrics_as_of) as metrics_as_of,
        max(observations.extracted_at) as extracted_at,
    {%- for metric_type, column in metrics %}
    max(observations.metric_count) filter (where observations.metric_type = '{{ metric_type }}')
        as {{ column }}_reading{{ "," if not loop.last }}
    {%- endfor %}
    from observations
    {% if is_incremental() %}
    -- an array, not a join: the staging view is a WITH query, which PostgreSQL does not flatten into this one, so
    -- a join condition never reaches raw's unique index on (post_urn, …) and the whole history is read; a
    -- restriction does reach it
    where observations.post_urn = any(array(select post_urn from changed_posts))
    {% endif %}
    group by observations.post_urn, observations.logical_date

),

reading_groups as (

    -- a metric's group number grows at each night it has a reading: the nights without one share its group
    select
        *,
    {%- for _, column in metrics %}
    count({{ column }}_reading) over post_nights as {{ column }}_group{{ "," if not loop.last }}
    {%- endfor %}
    from readings
    window post_nights as (partition by post_urn order by logical_date rows unbounded preceding)

),

cumulative as (

    select
        post_urn,
        logical_date,
        metrics_as_of,
        extracted_at,
    {%- for _, column in metrics %}
    coalesce(max({{ column }}_reading) over (partition by post_urn, {{ column }}_group), 0) as {{ column }}
    {{- "," if not loop.last }}
    {%- endfor %}
    from reading_groups

),

with_deltas as (

    select
        *,
        reactions + comments + reshares as engagements,
    {%- for _, column in metrics + [(none, 'engagements')] %}
    {%- set count = 'reactions + comments + reshares' if column == 'engagements' else column %}
    {{ count }} - coalesce(lag({{ count }}) over post_nights, 0) as {{ column }}_delta
    {{- "," if not loop.last }}
    {%- endfor %}
    from cumulative
    window post_nights as (partition by post_urn order by logical_date)

),

final as (

    select
        with_deltas.post_urn,
        with_deltas.logical_date,
        with_deltas.metrics_as_of,
        {%- for _, column in metrics + [(none, 'engagements')] %}
        with_deltas.{{ column }},
        with_deltas.{{ column }}_delta,
        {%- endfor %}
        with_deltas.extracted_at,
        {{ dbt.current_timestamp() }} as built_at
    from with_deltas
    {% if is_incremental() %}
    inner join changed_posts
        on with_deltas.post_urn = changed_posts.post_urn
        and with_deltas.logical_date >= changed_posts.from_night
    {% endif %}

)

select * from final
