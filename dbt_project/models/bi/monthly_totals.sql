-- Per month × network: the totals that bi.motivation_attribution splits over motivations, once per group (the
-- attributed parts of a group sum to them exactly), with the month's coverage. Respondents (surveyed sharers) are
-- a distinct count: additive over nothing.

with

share_totals as (

    select * from {{ ref('mart_month_team_network_shares') }}

),

month_attribution as (

    select * from {{ ref('mart_month_network_attribution') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

group_totals as (

    -- the teams' counts add up to the group's (shares, sums); only distinct sharers would not
    select
        month,
        network,
        sum(shares) as shares,
        sum(impressions) as impressions,
        sum(engagements) as engagements,
        sum(clicks) as clicks
    from share_totals
    group by month, network

),

group_respondents as (

    select distinct
        month,
        network,
        respondents
    from month_attribution

),

final as (

    select
        group_totals.month::date as month,
        group_totals.network::text as network,
        group_totals.shares::bigint as shares,
        group_totals.impressions::bigint as impressions,
        group_totals.engagements::bigint as engagements,
        group_totals.clicks::bigint as clicks,
        coalesce(group_respondents.respondents, 0)::integer as respondents,
        months.is_complete,
        months.days_covered
    from group_totals
    left join group_respondents
        on group_totals.month = group_respondents.month
        and group_totals.network = group_respondents.network
    left join months on group_totals.month = months.month

)

select * from final
