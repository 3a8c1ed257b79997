with

source as (

    select * from {{ source('linkedin', 'member_post_analytics') }}

),

renamed as (

    select

        ---------- ids
        post_urn,
        metric_type,

        ---------- numerics
        (payload ->> 'count')::bigint as metric_count,

        ---------- timestamps
        _logical_date as logical_date,
        -- The night of `logical_date` runs after that day has ended: the counts are as of its end.
        (_logical_date + 1)::timestamp at time zone 'UTC' as metrics_as_of,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
