-- One row per response: its latest version (an edited response lands once per version). Names, e-mail address and
-- IP address are deliberately not selected: nothing downstream needs them, and they must never reach `bi`.

with

source as (

    select * from {{ source('surveymonkey', 'responses') }}

),

latest_versions as (

    select distinct on (survey_id, response_id)
        *,
        count(*) over (partition by survey_id, response_id) as response_versions
    from source
    order by survey_id asc, response_id asc, date_modified desc

),

renamed as (

    select

        ---------- ids
        survey_id,
        response_id,
        nullif(payload ->> 'collector_id', '') as collector_id,
        nullif(payload -> 'custom_variables' ->> 'employee_id', '') as employee_id,

        ---------- properties
        payload ->> 'response_status' as response_status,

        ---------- numerics
        response_versions::integer as response_versions,

        ---------- timestamps
        (payload ->> 'date_created')::timestamptz as started_at,
        date_modified as submitted_at,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at,
        _logical_date as logical_date

    from latest_versions

)

select * from renamed
