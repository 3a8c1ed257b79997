-- The roster's e-mail addresses, lower-cased, for one purpose only: recognising a survey respondent a vendor names
-- by e-mail (int_qualtrics__respondents). Personal data: selected nowhere else, never towards `bi`.

with

source as (

    select * from {{ source('hr', 'roster') }}

),

renamed as (

    select

        ---------- ids
        employee_id,
        lower(trim(payload ->> 'email')) as email_normalised,

        ---------- timestamps
        min(_logical_date) as first_roster_date,
        max(_logical_date) as last_roster_date

    from source
    where coalesce(trim(payload ->> 'email'), '') <> ''
    group by employee_id, lower(trim(payload ->> 'email'))

)

select * from renamed
