-- The content pieces employees shared (the platform's export names them; there is no content catalogue source).
-- Title and type are optional export columns: a piece takes those of its latest share that has them, and the
-- type `unknown` when no share of it has one (exports older than the columns).

with

shares as (

    select * from {{ ref('stg_advocacy__shares') }}

),

described as (

    select distinct on (content_id)
        content_id,
        content_title,
        content_type
    from shares
    where content_title is not null or content_type is not null
    order by content_id asc, (content_type is not null) desc, shared_at desc, extracted_at desc

),

final as (

    select
        shares.content_id,
        max(described.content_title) as content_title,
        coalesce(max(described.content_type), 'unknown') as content_type,
        min(shares.shared_at) as first_shared_at,
        max(shares.shared_at) as last_shared_at,
        count(*) as shares
    from shares
    left join described on shares.content_id = described.content_id
    group by shares.content_id

)

select * from final
