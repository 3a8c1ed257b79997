-- Each X post's counters per night it was read. Public counters come every night; impressions are missing from
-- older API versions' public metrics and URL link clicks exist only in non-public / organic metrics, which X gives
-- for posts younger than 30 days: a night without them keeps the last reading (null before the first).
-- Engagements = likes + replies + retweets + quotes (bookmarks and profile clicks are not engagement with the post).
--
-- Incremental (delete+insert on post × night). X reads every post every night, so "the posts with new readings"
-- is nearly all of them: recomputing their whole history (as int_linkedin__post_metrics_nightly does) would rebuild
-- all X history each night. A build instead reads, per post with readings landed since the previous build (with a
-- lookback), only the readings from its earliest such night on, and carries impressions and link clicks from the
-- post's last row in this table before that night — the only state the carry-forward needs.

{{
    config(
        materialized='incremental',
        unique_key=['tweet_id', 'logical_date'],
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['tweet_id', 'logical_date'], 'unique': true}, {'columns': ['extracted_at']}],
        on_schema_change='fail',
        post_hook=["{{ ensure_indexes(this, model.config.indexes) }}", "analyze {{ this }}"],
    )
}}

with

{% if is_incremental() %}
changed_posts as (

    select
        tweet_id,
        min(logical_date) as from_night
    from {{ ref('stg_x__tweet_metrics') }}
    where extracted_at > (
            -- an empty table (a first build before any reading landed) takes everything
            select coalesce(max(extracted_at), '-infinity') - interval '{{ var("incremental_lookback_hours") }} hours'
            from {{ this }}
        )
    group by tweet_id

),

carried_before as (

    -- each changed post's last row before the nights recomputed: what its carried counters were. One probe of the
    -- (tweet_id, logical_date) index per post: as a join, the planner (which sees changed_posts as a CTE of
    -- unknown size) hashed the whole table, and the build's time grew with all of X history
    select
        changed_posts.tweet_id,
        last_built.impressions,
        last_built.url_link_clicks
    from changed_posts
    cross join lateral (
        select
            built.impressions,
            built.url_link_clicks
        from {{ this }} as built
        where
            built.tweet_id = changed_posts.tweet_id
            and built.logical_date < changed_posts.from_night
        order by built.logical_date desc
        limit 1
    ) as last_built

),
{% endif %}

new_readings as (

    select
        stg.tweet_id,
        stg.logical_date,
        stg.metrics_as_of,
        stg.impressions,
        stg.likes,
        stg.replies,
        stg.retweets,
        stg.quotes,
        stg.bookmarks,
        stg.url_link_clicks,
        stg.has_non_public_metrics,
        stg.extracted_at,
        false as is_carried_state
    from {{ ref('stg_x__tweet_metrics') }} as stg
    {% if is_incremental() %}
    inner join changed_posts
        on stg.tweet_id = changed_posts.tweet_id
        and stg.logical_date >= changed_posts.from_night
    -- an array as well as the join: the staging view is a WITH query, which PostgreSQL does not flatten into this
    -- one, so only a restriction reaches raw's unique index on (tweet_id, _logical_date)
    where stg.tweet_id = any(array(select tweet_id from changed_posts))
    {% endif %}

),

readings as (

    select * from new_readings
    {% if is_incremental() %}
    union all
    -- the carried state as a reading dated before every recomputed night; dropped from the output below
    select
        tweet_id,
        '-infinity'::date,
        null,
        impressions,
        null,
        null,
        null,
        null,
        null,
        url_link_clicks,
        null,
        null,
        true
    from carried_before
    {% endif %}

),

reading_groups as (

    -- a counter's group number grows at each night it has a reading: the nights without one share its group
    select
        *,
        count(impressions) over post_nights as impressions_group,
        count(url_link_clicks) over post_nights as url_link_clicks_group
    from readings
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
        extracted_at,
        is_carried_state
    from reading_groups

),

final as (

    select
        tweet_id,
        logical_date,
        metrics_as_of,
        impressions,
        likes,
        replies,
        retweets,
        quotes,
        bookmarks,
        engagements,
        url_link_clicks,
        has_non_public_metrics,
        extracted_at,
        {{ dbt.current_timestamp() }} as built_at
    from carried
    where not is_carried_state

)

select * from final
