-- Per team × month (of sharing): the sharing behaviour and outcome measures behind bi.obligation_signals and
-- bi.salesy_risk, and the motivation split of the team's surveyed shares. Outcomes are at the fixed horizon and
-- compared with what the same content gets elsewhere on the same network (expected = impressions × the content's
-- baseline rate). Carries survey aggregates of any size: marts only; `bi` applies k-anonymity.

{%- set constructs = survey_constructs() %}

with

shares as (

    select * from {{ ref('fct_shares') }}

),

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}

),

behaviour as (

    select
        team,
        share_month as month,
        count(*) as shares,
        count(distinct employee_id) as sharers,
        count(*) filter (where share_mode = 'scheduled') as scheduled_shares,
        count(*) filter (where not copy_edited) as unedited_shares,
        count(*) filter (where is_nudged) as nudged_shares,
        count(*) filter (where is_matured) as matured_shares,
        coalesce(sum(horizon_impressions), 0) as horizon_impressions,
        coalesce(sum(horizon_engagements), 0) as horizon_engagements,
        coalesce(sum(horizon_clicks), 0) as horizon_clicks,
        sum(horizon_impressions * content_engagement_rate) as expected_engagements,
        sum(horizon_impressions * content_click_through_rate) as expected_clicks
    from shares
    group by team, share_month

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
