-- The IP address is deliberately not selected: nothing downstream needs it, and it must never reach `bi`.
-- Who answered is not decided here: the candidate fields are exposed (the external data reference, the recipient's
-- e-mail, the embedded data), and int_qualtrics__respondents picks the one each survey is configured to use.

{%- set system_fields = [
    'startDate', 'endDate', 'status', 'ipAddress', 'progress', 'duration', 'finished', 'recordedDate', '_recordId',
    'distributionChannel', 'userLanguage', 'externalDataReference', 'recipientEmail', 'recipientFirstName',
    'recipientLastName', 'locationLatitude', 'locationLongitude',
] %}

with

source as (

    select * from {{ source('qualtrics', 'responses') }}

),

embedded as (

    -- every `values` entry that is neither a question (`QID…`) nor one of Qualtrics' own fields
    select
        source.survey_id,
        source.response_id,
        jsonb_object_agg(entry.key, entry.value) as embedded_data
    from source
    cross join lateral jsonb_each(coalesce(source.payload -> 'values', '{}'::jsonb)) as entry
    where entry.key !~ '^QID[0-9]+'
        and entry.key not in (
            -- the list, rendered, is one long line
            '{{ system_fields | join("', '") }}'  -- noqa: LT05
        )
    group by source.survey_id, source.response_id

),

renamed as (

    select

        ---------- ids
        source.survey_id,
        source.response_id,
        nullif(source.payload -> 'values' ->> 'externalDataReference', '') as external_data_reference,

        ---------- properties
        nullif(source.payload -> 'values' ->> 'recipientEmail', '') as recipient_email,
        coalesce(embedded.embedded_data, '{}'::jsonb) as embedded_data,
        source.payload -> 'values' ->> 'distributionChannel' as distribution_channel,

        ---------- numerics
        (source.payload -> 'values' ->> 'progress')::numeric as progress_percent,

        ---------- booleans
        (source.payload -> 'values' ->> 'finished')::integer = 1 as is_finished,

        ---------- timestamps
        (source.payload -> 'values' ->> 'startDate')::timestamptz as started_at,
        source.recorded_date as submitted_at,

        ---------- load metadata
        source._load_id as load_id,
        source._extracted_at as extracted_at,
        source._logical_date as logical_date

    from source
    left join embedded
        on source.survey_id = embedded.survey_id
        and source.response_id = embedded.response_id

)

select * from renamed
