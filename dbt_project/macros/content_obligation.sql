{#- The body of bi.content_obligation and bi.content_type_obligation: per group of content (`group_by`, columns of
    dim_content), how much of it is shared out of obligation and how it performs. `obligated_share` = the shares
    attributed to `obligated` ÷ every attributed share of surveyed sharers (the sharers' weights at share time);
    rates are Σ engagements (clicks) ÷ Σ impressions of the shares whose counts the platform reports (latest night).
    A group with fewer than var('k_anonymity') surveyed sharers is not shown at all. -#}
{% macro content_obligation(group_by) %}

with

shares as (

    select
        fct_shares.*,
{%- for column in group_by if column != 'content_id' %}
        dim_content.{{ column }}{{ "," if not loop.last }}
{%- endfor %}
    from {{ ref('fct_shares') }} as fct_shares
    inner join {{ ref('dim_content') }} as dim_content on fct_shares.content_id = dim_content.content_id

),

share_attribution as (

    select * from {{ ref('fct_share_motivation_attribution') }}

),

performance as (

    select
        {{ group_by | join(', ') }},
        count(distinct content_id) as contents,
        count(distinct employee_id) as sharers,
        count(*) as shares,
        sum(engagements) filter (where impressions is not null) as engagements,
        sum(impressions) filter (where engagements is not null) as impressions_with_engagements,
        sum(clicks) filter (where impressions is not null) as clicks,
        sum(impressions) filter (where clicks is not null) as impressions_with_clicks
    from shares
    group by {{ group_by | join(', ') }}

),

surveyed as (

    select
{%- for column in group_by %}
        shares.{{ column }},
{%- endfor %}
        count(distinct share_attribution.employee_id) as respondents,
        sum(share_attribution.attributed_shares) as attributed_shares,
        coalesce(sum(share_attribution.attributed_shares) filter (where share_attribution.motivation = 'obligated'), 0)
            as obligated_attributed_shares
    from share_attribution
    inner join shares on share_attribution.share_id = shares.share_id
    where share_attribution.motivation <> 'unattributed'
        and share_attribution.survey_response_token is not null
    group by {% for column in group_by %}shares.{{ column }}{{ ", " if not loop.last }}{% endfor %}

),

measured as (

    select
        performance.*,
        surveyed.respondents,
        round(surveyed.obligated_attributed_shares / nullif(surveyed.attributed_shares, 0), 4) as obligated_share,
        round(performance.engagements::numeric / nullif(performance.impressions_with_engagements, 0), 4)
            as engagement_rate,
        round(performance.clicks::numeric / nullif(performance.impressions_with_clicks, 0), 4) as click_through_rate
    from performance
    inner join surveyed
        on {% for column in group_by %}performance.{{ column }} = surveyed.{{ column }}{{ " and " if not loop.last }}{% endfor %}
    where surveyed.respondents >= {{ var('k_anonymity') }}

)

{%- endmacro %}
