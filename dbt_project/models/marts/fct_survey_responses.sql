-- One row per survey response × construct, every vendor: the score, whether the response is its respondent's
-- counted profile for the wave (int_survey__motivation_weights: one per employee × wave) with the motivation weight,
-- and the respondent's team when submitting (point in time). Confidential: stays in marts; `bi` gets aggregates of
-- at least var('k_anonymity') respondents only.

with

construct_scores as (

    select * from {{ ref('int_survey__construct_scores') }}

),

motivation_weights as (

    select * from {{ ref('int_survey__motivation_weights') }}

),

roster_history as (

    select * from {{ ref('int_hr__roster_history') }}

),

final as (

    select
        construct_scores.wave,
        construct_scores.source,
        construct_scores.response_id,
        construct_scores.construct,
        construct_scores.survey_id,
        construct_scores.employee_id,
        {{ employee_key('construct_scores.employee_id') }} as employee_key,
        coalesce(roster_history.team, 'unknown') as team,
        construct_scores.submitted_at,
        construct_scores.items_answered,
        construct_scores.mean_score,
        construct_scores.normalised_score,
        motivation_weights.weight,
        count(construct_scores.normalised_score) over response_constructs
        = count(*) over response_constructs as is_complete,
        motivation_weights.weight is not null as is_counted
    from construct_scores
    left join motivation_weights
        on construct_scores.source = motivation_weights.source
        and construct_scores.response_id = motivation_weights.response_id
        and construct_scores.construct = motivation_weights.construct
    left join roster_history
        on construct_scores.employee_id = roster_history.employee_id
        and construct_scores.submitted_at >= roster_history.valid_from
        and (roster_history.valid_to is null or construct_scores.submitted_at < roster_history.valid_to)
    window response_constructs as (partition by construct_scores.source, construct_scores.response_id)

)

select * from final
