-- The content pieces employees shared (the platform's export names them; there is no content catalogue source):
-- title and type from int_advocacy__content_descriptions (type `unknown` when no share of the piece has one —
-- exports older than the column), and how much and when the piece was shared, pooled from the content × sharer
-- rows of mart_content_sharers: one narrow row per sharer of a piece, kept incrementally, instead of every share.

with

content_sharers as (

    select * from {{ ref('mart_content_sharers') }}

),

descriptions as (

    select * from {{ ref('int_advocacy__content_descriptions') }}

),

shared as (

    select
        content_id,
        min(first_shared_at) as first_shared_at,
        max(last_shared_at) as last_shared_at,
        sum(shares)::bigint as shares
    from content_sharers
    group by content_id

),

final as (

    select
        shared.content_id,
        descriptions.content_title,
        coalesce(descriptions.content_type, 'unknown') as content_type,
        shared.first_shared_at,
        shared.last_shared_at,
        shared.shares
    from shared
    left join descriptions on shared.content_id = descriptions.content_id

)

select * from final
