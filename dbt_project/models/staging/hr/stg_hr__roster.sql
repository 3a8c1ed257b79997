-- The e-mail address is deliberately not selected: nothing downstream needs it, and it must never reach `bi`.

with

source as (

    select * from {{ source('hr', 'roster') }}

),

renamed as (

    select

        ---------- ids
        employee_id,
        nullif(payload ->> 'manager', '') as manager_id,

        ---------- properties
        payload ->> 'team' as team,
        payload ->> 'department' as department,
        nullif(payload ->> 'location', '') as location,

        ---------- dates
        (payload ->> 'start_date')::date as start_date,
        _logical_date as roster_date,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
