-- Per team × month (of sharing): what the team's shares did and how its surveyed shares split over the
-- motivations — everything mart_team_month_behaviour shows but the expected outcomes, which move with every content
-- baseline each night and are summed there from mart_team_month_content_reach. Team = the sharer's when sharing.
-- Carries survey aggregates of any size: marts only; `bi` applies k-anonymity.
--
-- Incremental by month (delete+insert on `month`, as every model of marts/months: dbt_project.yml): a build rebuilds
-- whole the months whose shares or splits changed since its last build (macro share_month_to_rebuild); distinct counts
-- within a month stay exact.

{%- set constructs = var('motivation_constructs') %}

{{ config(indexes=[{'columns': ['month', 'team'], 'unique': true}]) }}

with

shares as (

    select * from {{ ref('fct_shares') }}
    where {{ share_month_to_rebuild('share_month') }}

),

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}
    where {{ share_month_to_rebuild('share_month') }}

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
        coalesce(sum(horizon_clicks), 0) as horizon_clicks
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
        {{ dbt.current_timestamp() }} as built_at,
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
