-- Per month × network × motivation: the part of the group's shares, impressions, engagements and clicks attributed
-- to the motivation. The group totals are not repeated here (a sum over motivations would count them once per
-- row): they are bi.monthly_totals, and the attributed parts of a group sum to them exactly (numeric throughout).
-- k-anonymity: a month × network group with fewer than var('k_anonymity') surveyed sharers shows no motivation
-- split at all — everything goes to `unattributed`. Every motivation has a row in every group (zeros where
-- nothing is attributed).

with

month_attribution as (

    -- per month × network × motivation, kept by month (incremental): a few rows a month, not every share's split
    select * from {{ ref('mart_month_network_attribution') }}

),

motivations as (

    select motivation from {{ ref('dim_motivation') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

groups as (

    select distinct
        month,
        network,
        respondents,
        respondents < {{ var('k_anonymity', 5) }} as is_suppressed
    from month_attribution

),

attributed as (

    select
        groups.month,
        groups.network,
        case when groups.is_suppressed then 'unattributed' else month_attribution.motivation end as motivation,
        sum(month_attribution.attributed_shares) as attributed_shares,
        sum(month_attribution.attributed_impressions) as attributed_impressions,
        sum(month_attribution.attributed_engagements) as attributed_engagements,
        sum(month_attribution.attributed_clicks) as attributed_clicks
    from month_attribution
    inner join groups
        on month_attribution.month = groups.month
        and month_attribution.network = groups.network
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
