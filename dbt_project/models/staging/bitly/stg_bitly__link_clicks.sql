with

source as (

    select * from {{ source('bitly', 'link_clicks') }}

),

renamed as (

    select

        ---------- ids
        bitlink,

        ---------- numerics
        (payload ->> 'clicks')::bigint as clicks,

        ---------- dates
        click_date,
        _logical_date as logical_date,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
