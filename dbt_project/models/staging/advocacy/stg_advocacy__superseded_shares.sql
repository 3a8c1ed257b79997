-- Shares whose landed row a corrected export replaced (raw._superseded_rows keeps the replaced rows whole): the
-- only way a share leaves raw, so the only shares fct_shares may have to withdraw. A share the corrected version
-- still has is landed again (stg_advocacy__shares); one it lacks is withdrawn.

with

source as (

    select * from {{ source('advocacy', 'superseded_rows') }}

),

renamed as (

    select
        row ->> 'share_id' as share_id,
        row -> 'payload' ->> 'employee_id' as employee_id,
        row -> 'payload' ->> 'content_id' as content_id,
        row -> 'payload' ->> 'post_id' as post_id,
        -- as stg_advocacy__shares reads it from the landed row's payload (the replaced row passed that once)
        (row -> 'payload' ->> 'shared_at')::timestamptz as shared_at,
        row -> 'payload' ->> 'tracking_link' as tracking_link,
        manifest_id,
        superseded_at
    from source
    where source = 'advocacy' and entity = 'shares'

)

select * from renamed
