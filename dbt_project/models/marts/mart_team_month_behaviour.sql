-- Per team × month (of sharing): the sharing behaviour and outcome measures behind bi.obligation_signals and
-- bi.salesy_risk, and the motivation split of the team's surveyed shares. Outcomes are at the fixed horizon and
-- compared with what the same content gets elsewhere on the same network (expected = impressions × the content's
-- baseline rate). Carries survey aggregates of any size: marts only; `bi` applies k-anonymity.

{%- set constructs = var('motivation_constructs') %}

with

shares as (

    select * from {{ ref('fct_shares') }}

),

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}

),

content_baselines as (

    select * from {{ ref('mart_content_baselines') }}

),

behaviour as (

    select
        shares.team,
        shares.share_month as month,
        count(*) as shares,
        count(distinct shares.employee_id) as sharers,
        count(*) filter (where shares.share_mode = 'scheduled') as scheduled_shares,
        count(*) filter (where not shares.copy_edited) as unedited_shares,
        count(*) filter (where shares.is_nudged) as nudged_shares,
        count(*) filter (where shares.is_matured) as matured_shares,
        coalesce(sum(shares.horizon_impressions), 0) as horizon_impressions,
        coalesce(sum(shares.horizon_engagements), 0) as horizon_engagements,
        coalesce(sum(shares.horizon_clicks), 0) as horizon_clicks,
        -- what the same content gets on the same network: impressions × its baseline rates
        sum(shares.horizon_impressions * content_baselines.engagement_rate) as expected_engagements,
        sum(shares.horizon_impressions * content_baselines.click_through_rate) as expected_clicks
    from shares
    left join content_baselines
        on shares.content_id = content_baselines.content_id
        and shares.network = content_baselines.network
    group by shares.team, shares.share_month

),

motivation_split as (

    select
        shares.team,
        shares.share_month as month,
        count(distinct share_attribution.employee_id) as respondents,
        count(distinct share_attribution.share_id) as surveyed_shares,
    {%- for construct in constructs %}
    coalesce(sum(share_attribution.weight) filter (where share_attribution.motivation = '{{ construct }}'), 0)
        as {{ construct }}_attributed_shares{{ "," if not loop.last }}
    {%- endfor %}
    from share_attribution
    inner join shares on share_attribution.share_id = shares.share_id
    where share_attribution.motivation <> 'unattributed'
    group by shares.team, shares.share_month

),

final as (

    select
        behaviour.*,
        coalesce(motivation_split.respondents, 0) as respondents,
        coalesce(motivation_split.surveyed_shares, 0) as surveyed_shares,
    {%- for construct in constructs %}
    coalesce(motivation_split.{{ construct }}_attributed_shares, 0) as {{ construct }}_attributed_shares
    {{- "," if not loop.last }}
    {%- endfor %}
    from behaviour
    left join motivation_split
        on behaviour.team = motivation_split.team
        and behaviour.month = motivation_split.month

)

select * from final
