-- Per month × network × motivation (of sharing): the parts of the group's shares, impressions, engagements and
-- clicks attributed to the motivation (fct_share_motivation_attribution; exact numerics, so a group's parts still
-- sum to its totals), and the group's respondents (distinct surveyed sharers, the same on each of its rows). Survey
-- aggregates of any size: marts only; bi.motivation_attribution and bi.monthly_totals apply k-anonymity.
--
-- Incremental by month (delete+insert on `month`, as every model of marts/months: dbt_project.yml): a build rebuilds
-- whole the months whose shares or splits changed since its last build (macro share_month_to_rebuild); every share has
-- a row in the attribution, so every month with shares has rows here.

{{ config(indexes=[{'columns': ['month', 'network', 'motivation'], 'unique': true}]) }}

with

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}
    where {{ share_month_to_rebuild('share_month') }}

),

group_respondents as (

    select
        share_month as month,
        network,
        count(distinct employee_id) filter (where survey_response_token is not null) as respondents
    from share_attribution
    group by share_month, network

),

attributed as (

    select
        share_month as month,
        network,
        motivation,
        sum(attributed_shares) as attributed_shares,
        sum(attributed_impressions) as attributed_impressions,
        sum(attributed_engagements) as attributed_engagements,
        sum(attributed_clicks) as attributed_clicks
    from share_attribution
    group by share_month, network, motivation

),

final as (

    select
        attributed.month,
        attributed.network,
        attributed.motivation,
        group_respondents.respondents,
        attributed.attributed_shares,
        attributed.attributed_impressions,
        attributed.attributed_engagements,
        attributed.attributed_clicks,
        {{ dbt.current_timestamp() }} as built_at
    from attributed
    inner join group_respondents
        on attributed.month = group_respondents.month
        and attributed.network = group_respondents.network

)

select * from final
