-- Per team × month (of sharing): the sharing behaviour and outcome measures behind bi.obligation_signals and
-- bi.salesy_risk, and the motivation split of the team's surveyed shares. Outcomes are at the fixed horizon and
-- compared with what the same content gets elsewhere on the same network (expected = impressions × the content's
-- baseline rate). Carries survey aggregates of any size: marts only; `bi` applies k-anonymity.
--
-- A table of one row per team × month, rebuilt each night from two narrow incremental marts: the team's sharing
-- (mart_team_month_sharing) and its horizon impressions per content piece and network
-- (mart_team_month_content_reach), priced at tonight's baselines. Σ over shares of impressions × rate equals Σ over
-- pieces of (Σ impressions) × rate.

with

sharing as (

    select * from {{ ref('mart_team_month_sharing') }}

),

content_reach as (

    select * from {{ ref('mart_team_month_content_reach') }}

),

content_baselines as (

    select * from {{ ref('mart_content_baselines') }}

),

expected as (

    -- what the same content gets on the same network: impressions × its baseline rates
    select
        content_reach.team,
        content_reach.month,
        sum(content_reach.horizon_impressions * content_baselines.engagement_rate) as expected_engagements,
        sum(content_reach.horizon_impressions * content_baselines.click_through_rate) as expected_clicks
    from content_reach
    left join content_baselines
        on content_reach.content_id = content_baselines.content_id
        and content_reach.network = content_baselines.network
    group by content_reach.team, content_reach.month

),

final as (

    select
        sharing.team,
        sharing.month,
        sharing.shares,
        sharing.sharers,
        sharing.scheduled_shares,
        sharing.unedited_shares,
        sharing.nudged_shares,
        sharing.matured_shares,
        sharing.horizon_impressions,
        sharing.horizon_engagements,
        sharing.horizon_clicks,
        expected.expected_engagements,
        expected.expected_clicks,
        sharing.respondents,
        sharing.surveyed_shares,
    {%- for construct in var('motivation_constructs') %}
    sharing.{{ construct }}_attributed_shares{{ "," if not loop.last }}
    {%- endfor %}
    from sharing
    left join expected
        on sharing.team = expected.team
        and sharing.month = expected.month

)

select * from final
