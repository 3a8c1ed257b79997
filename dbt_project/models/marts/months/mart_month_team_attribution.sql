-- Per month × team × motivation (of sharing; team = the sharer's when sharing): the parts of the team's shares and
-- platform clicks attributed to the motivation by the surveyed sharers' weights, and the team's respondents
-- (distinct surveyed sharers of the month, the same on each of its rows). A share without a surveyed profile is on
-- the `unattributed` row, so every month with shares has rows. Survey aggregates of any size: marts only;
-- bi.team_motivation_clicks applies k-anonymity.
--
-- Incremental by month (delete+insert on `month`, as every model of marts/months: dbt_project.yml): a build rebuilds
-- whole the months whose shares or splits changed since its last build (macro share_month_to_rebuild).

{{ config(indexes=[{'columns': ['month', 'team', 'motivation'], 'unique': true}]) }}

with

shares as (

    select * from {{ ref('fct_shares') }}
    where {{ share_month_to_rebuild('share_month') }}

),

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}
    where {{ share_month_to_rebuild('share_month') }}

),

parts as (

    select
        shares.share_month as month,
        shares.team,
        share_attribution.employee_id,
        share_attribution.motivation <> 'unattributed'
        and share_attribution.survey_response_token is not null as is_surveyed,
        share_attribution.motivation,
        share_attribution.attributed_shares,
        share_attribution.attributed_clicks,
        -- clicks per share counts only shares whose clicks the platform reported
        shares.clicks is not null as has_clicks
    from share_attribution
    inner join shares on share_attribution.share_id = shares.share_id

),

team_respondents as (

    select
        month,
        team,
        count(distinct employee_id) filter (where is_surveyed) as respondents
    from parts
    group by month, team

),

by_motivation as (

    select
        month,
        team,
        case when is_surveyed then motivation else 'unattributed' end as motivation,
        sum(attributed_shares) as attributed_shares,
        coalesce(sum(attributed_clicks) filter (where has_clicks), 0) as attributed_clicks,
        coalesce(sum(attributed_shares) filter (where has_clicks), 0) as attributed_shares_with_clicks
    from parts
    group by 1, 2, 3

),

final as (

    select
        by_motivation.month,
        by_motivation.team,
        by_motivation.motivation,
        team_respondents.respondents,
        by_motivation.attributed_shares,
        by_motivation.attributed_clicks,
        by_motivation.attributed_shares_with_clicks,
        {{ dbt.current_timestamp() }} as built_at
    from by_motivation
    inner join team_respondents
        on by_motivation.month = team_respondents.month
        and by_motivation.team = team_respondents.team

)

select * from final
