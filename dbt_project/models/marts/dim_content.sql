-- The content pieces employees shared (the platform's export names them; there is no content catalogue source).

with

shares as (

    select * from {{ ref('stg_advocacy__shares') }}

),

final as (

    select
        content_id,
        min(shared_at) as first_shared_at,
        max(shared_at) as last_shared_at,
        count(*) as shares
    from shares
    group by content_id

)

select * from final
