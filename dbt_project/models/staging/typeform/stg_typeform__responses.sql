with

source as (

    select * from {{ source('typeform', 'responses') }}

),

renamed as (

    select

        ---------- ids
        form_id,
        response_token,
        payload ->> 'response_id' as response_id,
        payload -> 'hidden' ->> 'employee_id' as employee_id,

        ---------- numerics
        jsonb_array_length(coalesce(payload -> 'answers', '[]'::jsonb)) as answers_given,

        ---------- timestamps
        (payload ->> 'landed_at')::timestamptz as landed_at,
        submitted_at,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at,
        _logical_date as logical_date

    from source

)

select * from renamed
