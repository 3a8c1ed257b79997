with

source as (

    select * from {{ source('advocacy', 'shares') }}

),

renamed as (

    select

        ---------- ids
        share_id,
        payload ->> 'employee_id' as employee_id,
        payload ->> 'content_id' as content_id,
        payload ->> 'post_id' as post_id,

        ---------- properties
        payload ->> 'network' as network,
        payload ->> 'tracking_link' as tracking_link,
        payload ->> 'share_mode' as share_mode,
        (payload ->> 'copy_edited')::boolean as copy_edited,
        nullif(payload ->> 'campaign', '') as campaign,
        (payload ->> 'audience_size')::integer as audience_size,
        -- optional: exports before the platform added them lack these keys (null)
        nullif(payload ->> 'content_title', '') as content_title,
        nullif(payload ->> 'content_type', '') as content_type,

        ---------- timestamps
        (payload ->> 'shared_at')::timestamptz as shared_at,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at,
        _logical_date as logical_date

    from source

)

select * from renamed
