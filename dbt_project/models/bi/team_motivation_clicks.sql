-- Per month × team × motivation: which motivation brings the most clicks per share in each team. The shares and
-- clicks of the team's surveyed sharers are split over the four motivations by their weights at share time (as
-- fct_share_motivation_attribution does); shares of sharers without a profile are not in this view (they are
-- `unattributed` in bi.motivation_attribution). Team = the sharer's team when sharing; every network pooled.
-- k-anonymity: a month × team with fewer than var('k_anonymity') surveyed sharers is not shown at all.

with

team_attribution as (

    -- per month × team × motivation, kept by month (incremental): a few rows a month, not every share's split
    select * from {{ ref('mart_month_team_attribution') }}
    where motivation <> 'unattributed'

),

months as (

    select * from {{ ref('dim_month') }}

),

final as (

    select
        team_attribution.month::date as month,
        team_attribution.team::text as team,
        team_attribution.motivation::text as motivation,
        team_attribution.respondents::integer as respondents,
        trim_scale(team_attribution.attributed_shares) as attributed_shares,
        trim_scale(team_attribution.attributed_clicks) as attributed_clicks,
        round(team_attribution.attributed_clicks / nullif(team_attribution.attributed_shares_with_clicks, 0), 4)
            as clicks_per_share,
        months.is_complete,
        months.days_covered
    from team_attribution
    left join months on team_attribution.month = months.month
    where team_attribution.respondents >= {{ var('k_anonymity') }}

)

select * from final
