-- Each LinkedIn post's counters as of the latest night it was observed. Counters are cumulative, so the latest
-- observation is the best one; a metric missing that night keeps its last reading, and a metric LinkedIn never
-- reported for the post counts 0 (both carried by int_linkedin__post_metrics_nightly).

with

nightly as (

    select * from {{ ref('int_linkedin__post_metrics_nightly') }}

),

latest as (

    select distinct on (post_urn) *
    from nightly
    order by post_urn, logical_date desc

),

final as (

    select
        post_urn,
        impressions,
        members_reached,
        reactions,
        comments,
        reshares,
        engagements,
        clicks,
        metrics_as_of
    from latest

)

select * from final
