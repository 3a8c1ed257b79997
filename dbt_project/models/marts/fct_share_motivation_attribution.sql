-- Each share split over its sharer's motivations: the share and its outcome times the motivation weight of the
-- survey profile the sharer had when sharing. A share made before the sharer's first response takes that first
-- profile when the response came within var('first_profile_lookback_days') days after the share
-- (`attribution_basis` = 'first_profile_after_share'). A share with no profile either way gets one `unattributed`
-- row of weight 1. A share's weights sum to exactly 1 and the products are exact numerics, so the attributed parts
-- of any set of shares add up to its totals exactly.

with

shares as (

    select * from {{ ref('fct_shares') }}

),

motivation_weights as (

    select
        *,
        -- the employee's first profile also covers the lookback before its response
        valid_from = min(valid_from) over (partition by employee_id) as is_first_profile
    from {{ ref('int_survey__motivation_weights') }}

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
        trim_scale(weighted.weight * shares.clicks) as attributed_clicks
    from weighted
    inner join shares on weighted.share_id = shares.share_id

)

select * from final
