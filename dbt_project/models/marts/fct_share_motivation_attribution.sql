-- Each share split over its sharer's motivations: the share and its outcome times the motivation weight of the
-- survey profile the sharer had when sharing. A share made before the sharer's first response takes that first
-- profile when the response came within var('first_profile_lookback_days') days after the share
-- (`attribution_basis` = 'first_profile_after_share'). A share with no profile either way gets one `unattributed`
-- row of weight 1. A share's weights sum to exactly 1 and the products are exact numerics, so the attributed parts
-- of any set of shares add up to its totals exactly.
--
-- Incremental (delete+insert on share_id): a build re-splits only the shares it could change — the shares
-- fct_shares rebuilt since this table's newest build, and every share of a sharer whose survey profile changed
-- (`profile_digest`: every profile of the employee and the lookback, hashed; stored on each of their rows and
-- compared per employee). A share fct_shares withdrew leaves before the build (pre-hook). Nothing else decides a
-- share's split, so a full refresh gives the same rows.

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
        pre_hook="{{ withdraw_superseded_shares(this, ref('fct_shares'), ref('stg_advocacy__superseded_shares')) }}",
        post_hook=["{{ ensure_indexes(this, model.config.indexes) }}", "analyze {{ this }}"],
    )
}}

{#- A table built before this model was incremental has neither `profile_digest` nor `built_at`: its first build
    since re-splits every share (delete+insert of all of them) and gains the columns (on_schema_change). -#}
{%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list
    if execute and this is not none and is_incremental() else [] %}
{%- set incremental = 'profile_digest' in columns %}

with

motivation_weights as (

    select
        *,
        -- the employee's first profile also covers the lookback before its response
        valid_from = min(valid_from) over (partition by employee_id) as is_first_profile
    from {{ ref('int_survey__motivation_weights') }}

),

profile_digests as (

    -- everything of an employee's profiles that decides how their shares split, and the lookback
    select
        employee_id,
        md5(
            '{{ var("first_profile_lookback_days") }}|'
            || string_agg(
                concat_ws('|', wave, source, response_id, construct, weight, valid_from, valid_to),
                ',' order by valid_from, construct
            )
        ) as profile_digest
    from motivation_weights
    group by employee_id

),

{% if incremental %}
stored_digests as (

    -- one probe per employee of this table: a walk over its index on employee_id from each employee to the next
    -- (PostgreSQL 16 has no skip scan) and their rows' digest (the same on all of an employee's rows), where
    -- reading every row would grow with the history
    select
        employees.employee_id,
        (
            select built.profile_digest from {{ this }} as built
            where built.employee_id = employees.employee_id
            order by built.employee_id
            limit 1
        ) as profile_digest
    from (
        with recursive walk as (
            select min(employee_id) as employee_id from {{ this }}
            union all
            select (
                select min(built.employee_id) from {{ this }} as built
                where built.employee_id > walk.employee_id
            )
            from walk
            where walk.employee_id is not null
        )

        select employee_id from walk
        where employee_id is not null
    ) as employees

),

changed_profiles as (

    select coalesce(current_.employee_id, stored.employee_id) as employee_id
    from profile_digests as current_
    full join stored_digests as stored on current_.employee_id = stored.employee_id
    where current_.profile_digest is distinct from stored.profile_digest

),
{% endif %}

shares as (

    select * from {{ ref('fct_shares') }}
    {% if incremental -%}
    -- both through fct_shares' indexes (on built_at, on employee_id)
    where
        built_at > '{{ newest_built_at(this) }}'::timestamptz
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
        profile_digests.profile_digest,
        {{ dbt.current_timestamp() }} as built_at
    from weighted
    inner join shares on weighted.share_id = shares.share_id
    left join profile_digests on shares.employee_id = profile_digests.employee_id

)

select * from final
