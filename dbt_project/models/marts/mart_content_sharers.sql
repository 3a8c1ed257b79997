-- One row per content piece × employee who shared it: the sums bi.content_obligation and
-- bi.content_type_obligation pool, so that both read one narrow row per sharer of a piece instead of every share
-- and its attribution (twice over). Distinct sharers and respondents of any group of content are then counts of
-- these rows. Carries survey aggregates of any size: marts only; `bi` applies k-anonymity.

with

shares as (

    select * from {{ ref('fct_shares') }}

),

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}

),

performance as (

    -- rates count only the shares whose counts the platform reports
    select
        content_id,
        employee_id,
        count(*) as shares,
        sum(engagements) filter (where impressions is not null) as engagements,
        sum(impressions) filter (where engagements is not null) as impressions_with_engagements,
        sum(clicks) filter (where impressions is not null) as clicks,
        sum(impressions) filter (where clicks is not null) as impressions_with_clicks
    from shares
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
    inner join shares on share_attribution.share_id = shares.share_id
    where share_attribution.motivation <> 'unattributed'
        and share_attribution.survey_response_token is not null
    group by shares.content_id, shares.employee_id

),

final as (

    select
        performance.content_id,
        performance.employee_id,
        performance.shares,
        performance.engagements,
        performance.impressions_with_engagements,
        performance.clicks,
        performance.impressions_with_clicks,
        surveyed.content_id is not null as is_respondent,
        surveyed.attributed_shares,
        surveyed.obligated_attributed_shares
    from performance
    left join surveyed
        on performance.content_id = surveyed.content_id
        and performance.employee_id = surveyed.employee_id

)

select * from final
