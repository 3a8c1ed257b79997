-- Per team × survey wave: how many answered, their mean score on each construct, and morale as the share of
-- intrinsic motivation (good_news + proud) against obligation, with the change since the team's previous wave.
-- An employee counts once per wave, with their profile for it (the latest complete response, whichever vendor:
-- fct_survey_responses.is_counted); the team is the one they were in when answering.
-- A team × wave with fewer than var('k_anonymity') respondents is not shown at all (not even as an empty row: a
-- row would say that a handful of that team answered); a change is shown only against the wave right before, and
-- only when both are shown.

{%- set constructs = var('motivation_constructs') %}

with

responses as (

    -- one profile per employee and wave
    select * from {{ ref('fct_survey_responses') }}
    where is_counted

),

waves as (

    select * from {{ ref('dim_survey_wave') }}

),

profiles as (

    select
        wave,
        team,
        employee_id,
    {%- for construct in constructs %}
    max(mean_score) filter (where construct = '{{ construct }}') as {{ construct }}_score,
    max(weight) filter (where construct = '{{ construct }}') as {{ construct }}_weight{{ "," if not loop.last }}
    {%- endfor %}
    from responses
    group by wave, team, employee_id

),

team_waves as (

    select
        profiles.team,
        profiles.wave,
        waves.wave_number,
        (waves.first_submitted_at at time zone 'UTC')::date as wave_started_on,
        count(*) as respondents,
        {%- for construct in constructs %}
        avg({{ construct }}_score) as mean_{{ construct }}_score,
        {%- endfor %}
        avg(good_news_weight + proud_weight) as intrinsic_share,
        avg(obligated_weight) as obligated_share
    from profiles
    inner join waves on profiles.wave = waves.wave
    group by profiles.team, profiles.wave, waves.wave_number, waves.first_submitted_at

),

shown as (

    select
        team,
        wave,
        wave_number,
        wave_started_on,
        respondents,
        respondents < {{ var('k_anonymity') }} as is_suppressed,
        {%- for construct in constructs %}
        case when respondents >= {{ var('k_anonymity') }} then round(mean_{{ construct }}_score, 2) end
            as mean_{{ construct }}_score,
        {%- endfor %}
        case when respondents >= {{ var('k_anonymity') }} then round(intrinsic_share, 4) end as intrinsic_share,
        case when respondents >= {{ var('k_anonymity') }} then round(obligated_share, 4) end as obligated_share
    from team_waves

),

final as (

    select
        team::text as team,
        wave::text as wave,
        wave_number::integer as wave_number,
        wave_started_on::date as wave_started_on,
        respondents::integer as respondents,
        is_suppressed,
        {%- for construct in constructs %}
        mean_{{ construct }}_score::numeric as mean_{{ construct }}_score,
        {%- endfor %}
        intrinsic_share::numeric as intrinsic_share,
        obligated_share::numeric as obligated_share,
        case when lag(wave_number) over team_waves = wave_number - 1
                then intrinsic_share - lag(intrinsic_share) over team_waves
        end::numeric as intrinsic_share_change,
        case when lag(wave_number) over team_waves = wave_number - 1
                then obligated_share - lag(obligated_share) over team_waves
        end::numeric as obligated_share_change
    from shown
    where not is_suppressed
    window team_waves as (partition by team order by wave_number)

)

select * from final
