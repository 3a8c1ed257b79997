-- Per month × network × motivation: the part of the group's shares, impressions, engagements and clicks attributed
-- to the motivation. The group totals are not repeated here (a sum over motivations would count them once per
-- row): they are bi.monthly_totals, and the attributed parts of a group sum to them exactly (numeric throughout).
-- k-anonymity: a month × network group with fewer than var('k_anonymity') surveyed sharers shows no motivation
-- split at all — everything goes to `unattributed`. Every motivation has a row in every group (zeros where
-- nothing is attributed).

with

shares as (

    select * from {{ ref('fct_shares') }}

),

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}

),

motivations as (

    select motivation from {{ ref('dim_motivation') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

group_totals as (

    select distinct
        share_month as month,
        network
    from shares

),

group_respondents as (

    select
        share_month as month,
        network,
        count(distinct employee_id) filter (where survey_response_token is not null) as respondents
    from share_attribution
    group by share_month, network

),

groups as (

    select
        group_totals.*,
        coalesce(group_respondents.respondents, 0) as respondents,
        coalesce(group_respondents.respondents, 0) < {{ var('k_anonymity', 5) }} as is_suppressed
    from group_totals
    left join group_respondents
        on group_totals.month = group_respondents.month
        and group_totals.network = group_respondents.network

),

attributed as (

    select
        groups.month,
        groups.network,
        case when groups.is_suppressed then 'unattributed' else share_attribution.motivation end as motivation,
        sum(share_attribution.attributed_shares) as attributed_shares,
        sum(share_attribution.attributed_impressions) as attributed_impressions,
        sum(share_attribution.attributed_engagements) as attributed_engagements,
        sum(share_attribution.attributed_clicks) as attributed_clicks
    from share_attribution
    inner join groups
        on share_attribution.share_month = groups.month
        and share_attribution.network = groups.network
    group by 1, 2, 3

),

final as (

    select
        groups.month::date as month,
        groups.network::text as network,
        motivations.motivation::text as motivation,
        groups.respondents::integer as respondents,
        trim_scale(coalesce(attributed.attributed_shares, 0)) as attributed_shares,
        trim_scale(coalesce(attributed.attributed_impressions, 0)) as attributed_impressions,
        trim_scale(coalesce(attributed.attributed_engagements, 0)) as attributed_engagements,
        trim_scale(coalesce(attributed.attributed_clicks, 0)) as attributed_clicks,
        months.is_complete,
        months.days_covered
    from groups
    cross join motivations
    left join months on groups.month = months.month
    left join attributed
        on groups.month = attributed.month
        and groups.network = attributed.network
        and motivations.motivation = attributed.motivation

)

select * from final
