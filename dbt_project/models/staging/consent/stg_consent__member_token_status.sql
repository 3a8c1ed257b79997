-- Each night's status of every member token (no token values: those never leave schema `consent`).

with

source as (

    select * from {{ source('consent', 'member_token_status') }}

),

renamed as (

    select

        ---------- ids
        employee_id,
        network,

        ---------- strings
        status,
        payload ->> 'status_reason' as status_reason,

        ---------- booleans
        status in ('valid', 'expiring') as is_usable,

        ---------- timestamps
        (payload ->> 'access_expires_at')::timestamptz as access_expires_at,
        (payload ->> 'refresh_expires_at')::timestamptz as refresh_expires_at,
        _logical_date as logical_date,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
