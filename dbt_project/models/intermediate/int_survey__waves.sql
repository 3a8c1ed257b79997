-- Which survey wave each vendor survey belongs to. The same wave can run on several vendors at once (Typeform,
-- SurveyMonkey, Qualtrics), each with its own survey id, so a wave is a set of vendor surveys:
--   1. a survey pinned by the seed `survey_waves` belongs to the wave named there;
--   2. the others are grouped by when they opened: sorted by first response, a survey whose first response came
--      more than var('survey_wave_window_days') after the previous survey's starts a new group (the vendors of a
--      wave open together; waves are weeks or months apart);
--   3. a group's wave is named by a pinned member if any, else by its Typeform form (the form id, as when every
--      wave ran on Typeform), else `<source>:<survey_id>` of its first survey.

with

survey_responses as (

    select
        'typeform' as source,
        form_id as survey_id,
        submitted_at
    from {{ ref('stg_typeform__responses') }}
    union all
    select
        'surveymonkey',
        survey_id,
        submitted_at
    from {{ ref('stg_surveymonkey__responses') }}
    union all
    select
        'qualtrics',
        survey_id,
        submitted_at
    from {{ ref('stg_qualtrics__responses') }}

),

surveys as (

    select
        source,
        survey_id,
        min(submitted_at) as first_submitted_at,
        max(submitted_at) as last_submitted_at,
        count(*) as responses
    from survey_responses
    group by source, survey_id

),

opened as (

    select
        surveys.*,
        pinned.wave as pinned_wave,
        lag(surveys.first_submitted_at) over opening_order as previous_first_submitted_at
    from surveys
    left join {{ ref('survey_waves') }} as pinned
        on surveys.source = pinned.source
        and surveys.survey_id = pinned.survey_id
    window opening_order as (order by surveys.first_submitted_at, surveys.source, surveys.survey_id)

),

grouped as (

    select
        *,
        count(*) filter (
            where previous_first_submitted_at is null
            or first_submitted_at
            > previous_first_submitted_at + interval '{{ var("survey_wave_window_days") }} days'
        ) over (order by first_submitted_at, source, survey_id rows unbounded preceding) as opening_group
    from opened

),

named as (

    select
        *,
        min(pinned_wave) over opening_groups as group_pinned_wave,
        min(survey_id) filter (where source = 'typeform') over opening_groups as group_typeform_form,
        first_value(source || ':' || survey_id) over (
            partition by opening_group order by first_submitted_at, source, survey_id
        ) as group_first_survey
    from grouped
    window opening_groups as (partition by opening_group)

),

final as (

    select
        source,
        survey_id,
        coalesce(pinned_wave, group_pinned_wave, group_typeform_form, group_first_survey) as wave,
        pinned_wave is not null as is_pinned,
        first_submitted_at,
        last_submitted_at,
        responses
    from named

)

select * from final
