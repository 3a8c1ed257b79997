-- Public metrics always come; `impression_count` only in current API versions (older payloads lack it, then the
-- non-public / organic count stands in). URL link clicks exist only in non-public / organic metrics: null when the
-- night's reading had neither (posts older than 30 days, or no user context).

with

source as (

    select * from {{ source('x', 'tweet_metrics') }}

),

renamed as (

    select

        ---------- ids
        tweet_id,

        ---------- numerics
        coalesce(
            (payload -> 'public_metrics' ->> 'impression_count')::bigint,
            (payload -> 'non_public_metrics' ->> 'impression_count')::bigint,
            (payload -> 'organic_metrics' ->> 'impression_count')::bigint
        ) as impressions,
        (payload -> 'public_metrics' ->> 'like_count')::bigint as likes,
        (payload -> 'public_metrics' ->> 'reply_count')::bigint as replies,
        (payload -> 'public_metrics' ->> 'retweet_count')::bigint as retweets,
        (payload -> 'public_metrics' ->> 'quote_count')::bigint as quotes,
        (payload -> 'public_metrics' ->> 'bookmark_count')::bigint as bookmarks,
        coalesce(
            (payload -> 'non_public_metrics' ->> 'url_link_clicks')::bigint,
            (payload -> 'organic_metrics' ->> 'url_link_clicks')::bigint
        ) as url_link_clicks,
        coalesce(
            (payload -> 'non_public_metrics' ->> 'user_profile_clicks')::bigint,
            (payload -> 'organic_metrics' ->> 'user_profile_clicks')::bigint
        ) as user_profile_clicks,

        ---------- strings
        -- how the night read the post: its author's own token (`user_context`) or the app's, public metrics only
        -- (`app_public`: its author had no valid token, or the post was older than 30 days); inferred for rows
        -- landed before the column existed
        coalesce(
            metrics_access,
            case when payload ? 'non_public_metrics' or payload ? 'organic_metrics' then 'user_context'
                else 'app_public'
            end
        ) as metrics_access,

        ---------- booleans
        payload ? 'non_public_metrics' or payload ? 'organic_metrics' as has_non_public_metrics,

        ---------- timestamps
        (payload ->> 'created_at')::timestamptz as created_at,
        _logical_date as logical_date,
        -- as for LinkedIn: the night of `logical_date` runs after that day has ended; the counts are as of its end
        (_logical_date + 1)::timestamp at time zone 'UTC' as metrics_as_of,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
