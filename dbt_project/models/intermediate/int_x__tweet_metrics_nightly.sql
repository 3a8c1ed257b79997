-- Each X post's counters per night it was read. Public counters come every night; impressions are missing from
-- older API versions' public metrics and URL link clicks exist only in non-public / organic metrics, which X gives
-- for posts younger than 30 days: a night without them keeps the last reading (null before the first).
-- Engagements = likes + replies + retweets + quotes (bookmarks and profile clicks are not engagement with the post).

with

readings as (

    select
        *,
        count(impressions) over post_nights as impressions_group,
        count(url_link_clicks) over post_nights as url_link_clicks_group
    from {{ ref('stg_x__tweet_metrics') }}
    window post_nights as (partition by tweet_id order by logical_date rows unbounded preceding)

),

carried as (

    select
        tweet_id,
        logical_date,
        metrics_as_of,
        max(impressions) over (partition by tweet_id, impressions_group) as impressions,
        likes,
        replies,
        retweets,
        quotes,
        bookmarks,
        likes + replies + retweets + quotes as engagements,
        max(url_link_clicks) over (partition by tweet_id, url_link_clicks_group) as url_link_clicks,
        has_non_public_metrics,
        extracted_at
    from readings

)

select * from carried
