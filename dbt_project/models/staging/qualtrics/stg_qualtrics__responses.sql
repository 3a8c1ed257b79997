-- The IP address is deliberately not selected: nothing downstream needs it, and it must never reach `bi`.

with

source as (

    select * from {{ source('qualtrics', 'responses') }}

),

renamed as (

    select

        ---------- ids
        survey_id,
        response_id,
        nullif(payload -> 'values' ->> 'employee_id', '') as employee_id,

        ---------- properties
        payload -> 'values' ->> 'distributionChannel' as distribution_channel,

        ---------- numerics
        (payload -> 'values' ->> 'progress')::numeric as progress_percent,

        ---------- booleans
        (payload -> 'values' ->> 'finished')::integer = 1 as is_finished,

        ---------- timestamps
        (payload -> 'values' ->> 'startDate')::timestamptz as started_at,
        recorded_date as submitted_at,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at,
        _logical_date as logical_date

    from source

)

select * from renamed
