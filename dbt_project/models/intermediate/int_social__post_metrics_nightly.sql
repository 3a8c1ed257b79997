-- Every shared post's readings, LinkedIn and X, in the one shape the share facts use: cumulative impressions,
-- unique members reached (LinkedIn only: X reports no unique reach), engagements and platform-reported link clicks
-- per post × night, with where the clicks come from. Each network's engagements are its own definition (LinkedIn:
-- reactions + comments + reshares; X: likes + replies + retweets + quotes).

with

linkedin as (

    select
        'linkedin' as network,
        post_urn as post_id,
        logical_date,
        metrics_as_of,
        impressions,
        members_reached,
        engagements,
        clicks,
        -- LINK_CLICKS exists from API version 202604; a post it was never reported for counts 0 (as every metric)
        'linkedin.LINK_CLICKS' as click_source,
        extracted_at
    from {{ ref('int_linkedin__post_metrics_nightly') }}

),

x as (

    select
        'x' as network,
        tweet_id as post_id,
        logical_date,
        metrics_as_of,
        impressions,
        null::bigint as members_reached,
        engagements,
        url_link_clicks as clicks,
        case when url_link_clicks is not null then 'x.url_link_clicks' end as click_source,
        extracted_at
    from {{ ref('int_x__tweet_metrics_nightly') }}

)

select * from linkedin
union all
select * from x
