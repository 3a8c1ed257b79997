-- One row per content piece × employee who shared it: the sums bi.content_obligation and
-- bi.content_type_obligation pool, so that both read one narrow row per sharer of a piece instead of every share
-- and its attribution (twice over). Distinct sharers and respondents of any group of content are then counts of
-- these rows, and dim_content's share counts and first and last shares their sums, minima and maxima. Carries
-- survey aggregates of any size: marts only; `bi` applies k-anonymity.
--
-- Incremental by pair (delete+insert on content_id, employee_id): a build rebuilds whole the pairs of the shares
-- fct_shares or the attribution wrote since the table's newest build, and of the shares a corrected export withdrew
-- or changed since then (minus var('incremental_lookback_hours')): nothing else changes what a pair holds. A pair
-- left with no share is deleted after the build (post-hook). Each changed share is found through its table's index
-- on built_at, each pair's shares through fct_shares' index on employee_id (both inputs are inlined where read,
-- `not materialized`: a CTE read twice is otherwise materialised whole).

{{
    config(
        materialized='incremental',
        unique_key=['content_id', 'employee_id'],
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['content_id', 'employee_id'], 'unique': true}],
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ delete_emptied_content_sharers(this, ref('fct_shares'), ref('stg_advocacy__superseded_shares')) }}",
            "{{ ensure_indexes(this, model.config.indexes) }}",
        ],
    )
}}

{#- A table built before this model was incremental has no `built_at`, one built before it kept the pair's first
    and last share neither: its first build since rebuilds every pair (delete+insert of all of them) and gains the
    columns (on_schema_change). -#}
{%- set incremental = builds_on_built_at(this, also=['first_shared_at', 'last_shared_at']) | trim == 'true' %}
{%- if incremental %}
{%- set since = newest_built_at(this) %}
{%- set lookback = "interval '" ~ var('incremental_lookback_hours') ~ " hours'" %}
{%- endif %}

with

shares as {% if incremental %}not materialized {% endif %}(

    select * from {{ ref('fct_shares') }}

),

share_attribution as {% if incremental %}not materialized {% endif %}(

    select * from {{ ref('fct_share_motivation_attribution') }}

),

superseded_shares as (

    select * from {{ ref('stg_advocacy__superseded_shares') }}

),

{% if incremental %}
changed_pairs as (

    select
        content_id,
        employee_id
    from shares
    where built_at > '{{ since }}'::timestamptz
    union
    select
        shares.content_id,
        shares.employee_id
    from share_attribution
    inner join shares on share_attribution.share_id = shares.share_id
    where share_attribution.built_at > '{{ since }}'::timestamptz
    union
    select
        content_id,
        employee_id
    from superseded_shares
    where superseded_at > '{{ since }}'::timestamptz - {{ lookback }}

),

pair_shares as (

    select shares.* from shares
    inner join changed_pairs
        on shares.content_id = changed_pairs.content_id
        and shares.employee_id = changed_pairs.employee_id

),
{% else %}
pair_shares as (

    select * from shares

),
{% endif %}

performance as (

    -- rates count only the shares whose counts the platform reports
    select
        content_id,
        employee_id,
        count(*) as shares,
        min(shared_at) as first_shared_at,
        max(shared_at) as last_shared_at,
        sum(engagements) filter (where impressions is not null) as engagements,
        sum(impressions) filter (where engagements is not null) as impressions_with_engagements,
        sum(clicks) filter (where impressions is not null) as clicks,
        sum(impressions) filter (where clicks is not null) as impressions_with_clicks
    from pair_shares
    group by content_id, employee_id

),

surveyed as (

    -- the parts of the sharer's shares attributed by a survey response (weights at share time)
    select
        shares.content_id,
        shares.employee_id,
        sum(share_attribution.attributed_shares) as attributed_shares,
        coalesce(sum(share_attribution.attributed_shares) filter (where share_attribution.motivation = 'obligated'), 0)
            as obligated_attributed_shares
    from share_attribution
    inner join pair_shares as shares on share_attribution.share_id = shares.share_id
    where share_attribution.motivation <> 'unattributed'
        and share_attribution.survey_response_token is not null
    group by shares.content_id, shares.employee_id

),

final as (

    select
        performance.content_id,
        performance.employee_id,
        performance.shares,
        performance.first_shared_at,
        performance.last_shared_at,
        performance.engagements,
        performance.impressions_with_engagements,
        performance.clicks,
        performance.impressions_with_clicks,
        surveyed.content_id is not null as is_respondent,
        surveyed.attributed_shares,
        surveyed.obligated_attributed_shares,
        {{ dbt.current_timestamp() }} as built_at
    from performance
    left join surveyed
        on performance.content_id = surveyed.content_id
        and performance.employee_id = surveyed.employee_id

)

select * from final
