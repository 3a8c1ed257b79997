{#- The body of bi.content_obligation and bi.content_type_obligation: per group of content (`group_by`, columns of
    dim_content), how much of it is shared out of obligation and how it performs, pooled from the content × sharer
    sums of marts.mart_content_sharers. `obligated_share` = the shares attributed to `obligated` ÷ every attributed
    share of surveyed sharers (the sharers' weights at share time); rates are Σ engagements (clicks) ÷ Σ
    impressions of the shares whose counts the platform reports (latest night). A group with fewer than
    var('k_anonymity') surveyed sharers is not shown at all. -#}
{% macro content_obligation(group_by) %}

with

content_sharers as (

    select
        content_sharers.*,
{%- for column in group_by if column != 'content_id' %}
        dim_content.{{ column }}{{ "," if not loop.last }}
{%- endfor %}
    from {{ ref('mart_content_sharers') }} as content_sharers
    inner join {{ ref('dim_content') }} as dim_content on content_sharers.content_id = dim_content.content_id

),

pooled as (

    select
        {{ group_by | join(', ') }},
        count(distinct content_id) as contents,
        count(distinct employee_id) as sharers,
        count(distinct employee_id) filter (where is_respondent) as respondents,
        sum(shares) as shares,
        sum(engagements) as engagements,
        sum(impressions_with_engagements) as impressions_with_engagements,
        sum(clicks) as clicks,
        sum(impressions_with_clicks) as impressions_with_clicks,
        sum(attributed_shares) as attributed_shares,
        sum(obligated_attributed_shares) as obligated_attributed_shares
    from content_sharers
    group by {{ group_by | join(', ') }}

),

measured as (

    select
        *,
        round(obligated_attributed_shares / nullif(attributed_shares, 0), 4) as obligated_share,
        round(engagements::numeric / nullif(impressions_with_engagements, 0), 4) as engagement_rate,
        round(clicks::numeric / nullif(impressions_with_clicks, 0), 4) as click_through_rate
    from pooled
    where respondents >= {{ var('k_anonymity') }}

)

{%- endmacro %}
