-- Per month × team × motivation: which motivation brings the most clicks per share in each team. The shares and
-- clicks of the team's surveyed sharers are split over the four motivations by their weights at share time (as
-- fct_share_motivation_attribution does); shares of sharers without a profile are not in this view (they are
-- `unattributed` in bi.motivation_attribution). Team = the sharer's team when sharing; every network pooled.
-- k-anonymity: a month × team with fewer than var('k_anonymity') surveyed sharers is not shown at all.

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

surveyed as (

    select
        shares.share_month as month,
        shares.team,
        share_attribution.motivation,
        share_attribution.employee_id,
        share_attribution.attributed_shares,
        share_attribution.attributed_clicks,
        -- clicks per share counts only shares whose clicks the platform reported
        shares.clicks is not null as has_clicks
    from share_attribution
    inner join shares on share_attribution.share_id = shares.share_id
    where share_attribution.motivation <> 'unattributed'
        and share_attribution.survey_response_token is not null

),

team_months as (

    select
        month,
        team,
        count(distinct employee_id) as respondents
    from surveyed
    group by month, team

),

by_motivation as (

    select
        month,
        team,
        motivation,
        sum(attributed_shares) as attributed_shares,
        coalesce(sum(attributed_clicks) filter (where has_clicks), 0) as attributed_clicks,
        sum(attributed_shares) filter (where has_clicks) as attributed_shares_with_clicks
    from surveyed
    group by month, team, motivation

),

final as (

    select
        by_motivation.month::date as month,
        by_motivation.team::text as team,
        by_motivation.motivation::text as motivation,
        team_months.respondents::integer as respondents,
        trim_scale(by_motivation.attributed_shares) as attributed_shares,
        trim_scale(by_motivation.attributed_clicks) as attributed_clicks,
        round(by_motivation.attributed_clicks / nullif(by_motivation.attributed_shares_with_clicks, 0), 4)
            as clicks_per_share,
        months.is_complete,
        months.days_covered
    from by_motivation
    inner join team_months
        on by_motivation.month = team_months.month
        and by_motivation.team = team_months.team
    left join months on by_motivation.month = months.month
    where team_months.respondents >= {{ var('k_anonymity') }}

)

select * from final
