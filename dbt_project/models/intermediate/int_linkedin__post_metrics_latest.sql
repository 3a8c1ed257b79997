-- Each LinkedIn post's counters as of the latest night they were observed. Counters are cumulative, so the
-- latest observation is the best one; each metric takes its own latest night (the nightly load fetches all of a
-- post's metrics together, so these are the same night unless a metric was missing). A metric LinkedIn never
-- reported for the post counts 0.

with

observations as (

    select * from {{ ref('stg_linkedin__member_post_analytics') }}

),

latest as (

    select
        *,
        row_number() over (partition by post_urn, metric_type order by logical_date desc) as recency
    from observations

),

pivoted as (

    select
        post_urn,
        coalesce(max(metric_count) filter (where metric_type = 'IMPRESSION'), 0) as impressions,
        coalesce(max(metric_count) filter (where metric_type = 'MEMBERS_REACHED'), 0) as members_reached,
        coalesce(max(metric_count) filter (where metric_type = 'REACTION'), 0) as reactions,
        coalesce(max(metric_count) filter (where metric_type = 'COMMENT'), 0) as comments,
        coalesce(max(metric_count) filter (where metric_type = 'RESHARE'), 0) as reshares,
        coalesce(max(metric_count) filter (where metric_type = 'LINK_CLICKS'), 0) as clicks,
        max(metrics_as_of) as metrics_as_of
    from latest
    where recency = 1
    group by post_urn

),

final as (

    select
        post_urn,
        impressions,
        members_reached,
        reactions,
        comments,
        reshares,
        reactions + comments + reshares as engagements,
        clicks,
        metrics_as_of
    from pivoted

)

select * from final
