-- Per team × month (of sharing) × content piece × network: the horizon impressions of the team's shares of the
-- piece there. What mart_team_month_behaviour multiplies by each content baseline to get a team × month's expected
-- outcomes: the baselines move every night (one more matured share of a piece moves its rate for every month it was
-- shared in), these sums do not, so a night re-reads these rows instead of every share.
--
-- Incremental by month (delete+insert on `month`, as every model of marts/months: dbt_project.yml): a build rebuilds
-- whole the months whose shares fct_shares wrote since its last build (macro share_month_to_rebuild; the attribution
-- does not enter here).

{{ config(indexes=[{'columns': ['month', 'team', 'content_id', 'network'], 'unique': true}]) }}

with

shares as (

    select * from {{ ref('fct_shares') }}
    where {{ share_month_to_rebuild('share_month', inputs=['fct_shares']) }}

),

final as (

    select
        share_month as month,
        team,
        content_id,
        network,
        sum(horizon_impressions) as horizon_impressions,
        {{ dbt.current_timestamp() }} as built_at
    from shares
    group by share_month, team, content_id, network

)

select * from final
