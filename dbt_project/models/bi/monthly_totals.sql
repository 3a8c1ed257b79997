-- Per month × network: the totals that bi.motivation_attribution splits over motivations, once per group (the
-- attributed parts of a group sum to them exactly), with the month's coverage. Respondents (surveyed sharers) are
-- a distinct count: additive over nothing.

with

shares as (

    select * from {{ ref('fct_shares') }}

),

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

group_totals as (

    select
        share_month as month,
        network,
        count(*) as shares,
        sum(impressions) as impressions,
        sum(engagements) as engagements,
        sum(clicks) as clicks
    from shares
    group by share_month, network

),

group_respondents as (

    select
        share_month as month,
        network,
        count(distinct employee_id) filter (where survey_response_token is not null) as respondents
    from share_attribution
    group by share_month, network

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
