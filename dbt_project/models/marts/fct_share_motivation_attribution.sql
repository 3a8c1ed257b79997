-- Each share split over its sharer's motivations: the share and its outcome times the motivation weight of the
-- survey profile the sharer had when sharing. A share made before the sharer's first response takes that first
-- profile when the response came within var('first_profile_lookback_days') days after the share
-- (`attribution_basis` = 'first_profile_after_share'). A share with no profile either way gets one `unattributed`
-- row of weight 1. A share's weights sum to exactly 1 and the products are exact numerics, so the attributed parts
-- of any set of shares add up to its totals exactly.
--
-- Incremental (delete+insert on share_id): a build splits again only the shares it could change — the shares
-- fct_shares rebuilt since this table's newest build, and every share of a sharer whose survey profiles changed
-- since (int_survey__profile_digests rebuilt them) — and of these writes only the shares whose rows come out other
-- than built: a sharer's new response changes the split of the few shares in its lookback, not of the years
-- before. A share fct_shares withdrew leaves before the build (pre-hook). Nothing else decides a share's split, so a
-- full refresh gives the same rows.

{#- columns this model built once and no longer does: a table built before loses them in its next build (pre-hook) -#}
{%- set retired_columns = ['profile_digest'] %}

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['share_id', 'motivation'], 'unique': true},
            {'columns': ['employee_id']},
            {'columns': ['built_at']},
        ],
        on_schema_change='append_new_columns',
        pre_hook=[
            "{{ withdraw_superseded_shares(this, ref('fct_shares'), ref('stg_advocacy__superseded_shares')) }}",
            "{{ drop_retired_columns(this, " ~ (retired_columns | tojson) ~ ") }}",
        ],
        post_hook=["{{ ensure_indexes(this, model.config.indexes) }}", "analyze {{ this }}"],
    )
}}

{#- A table built before this model was incremental has no `built_at`: its first build since splits every share
    again (delete+insert of all of them) and gains the column (on_schema_change). -#}
{%- set incremental = builds_on_built_at(this) | trim == 'true' %}
{%- set since = newest_built_at(this) if incremental else none %}

with

motivation_weights as (

    select
        *,
        -- the employee's first profile also covers the lookback before its response
        valid_from = min(valid_from) over (partition by employee_id) as is_first_profile
    from {{ ref('int_survey__motivation_weights') }}

),

profile_digests as (

    select * from {{ ref('int_survey__profile_digests') }}

),

{% if incremental %}
changed_profiles as (

    -- through the digests' index on built_at
    select employee_id from profile_digests
    where built_at > '{{ since }}'::timestamptz

),
{% endif %}

shares as (

    select * from {{ ref('fct_shares') }}
    {% if incremental -%}
    -- both through fct_shares' indexes (on built_at, on employee_id)
    where
        built_at > '{{ since }}'::timestamptz
        or employee_id = any(array(select employee_id from changed_profiles))
    {%- endif %}

),

attributed as (

    select
        shares.share_id,
        motivation_weights.construct as motivation,
        motivation_weights.weight,
        motivation_weights.wave as survey_wave,
        motivation_weights.source as survey_source,
        motivation_weights.response_id as survey_response_token,
        case
            when shares.shared_at >= motivation_weights.valid_from then 'profile_at_share_time'
            else 'first_profile_after_share'
        end as attribution_basis
    from shares
    inner join motivation_weights
        on shares.employee_id = motivation_weights.employee_id
        and (
            shares.shared_at >= motivation_weights.valid_from
            or (
                motivation_weights.is_first_profile
                and shares.shared_at
                >= motivation_weights.valid_from - interval '{{ var("first_profile_lookback_days") }} days'
            )
        )
        and (motivation_weights.valid_to is null or shares.shared_at < motivation_weights.valid_to)

),

unattributed as (

    select
        shares.share_id,
        'unattributed' as motivation,
        1::numeric(7, 6) as weight,
        null as survey_wave,
        null as survey_source,
        null as survey_response_token,
        'unattributed' as attribution_basis
    from shares
    where not exists (
            select 1 from attributed
            where attributed.share_id = shares.share_id
        )

),

weighted as (

    select * from attributed
    union all
    select * from unattributed

),

final as (

    select
        weighted.share_id,
        weighted.motivation,
        shares.employee_id,
        shares.share_month,
        shares.network,
        weighted.survey_wave,
        weighted.survey_source,
        weighted.survey_response_token,
        weighted.attribution_basis,
        weighted.weight,
        -- exact: a 6-decimal weight times a count; trim_scale only drops trailing zeros (750, not 750.000000)
        trim_scale(weighted.weight) as attributed_shares,
        trim_scale(weighted.weight * shares.impressions) as attributed_impressions,
        trim_scale(weighted.weight * shares.engagements) as attributed_engagements,
        trim_scale(weighted.weight * shares.clicks) as attributed_clicks,
        {{ dbt.current_timestamp() }} as built_at
    from weighted
    inner join shares on weighted.share_id = shares.share_id

){% if incremental %},

changed_shares as (

    -- the shares split again whose rows came out other than built: a row not built as it is now (one probe of the
    -- unique index each), or a built row the split no longer has
    select final.share_id from final
    where not {{ equals_built_row('final', ['share_id', 'motivation'], retired=retired_columns) }}
    union
    select built.share_id from {{ this }} as built
    where
        built.share_id = any(array(select share_id from shares))
        and not exists (
            select from final
            where final.share_id = built.share_id and final.motivation = built.motivation
        )

)
{% endif %}

select * from final
{% if incremental -%}
where share_id in (select share_id from changed_shares)
{%- endif %}
