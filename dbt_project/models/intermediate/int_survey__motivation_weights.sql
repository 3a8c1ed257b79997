-- Each employee's motivation profile per survey wave: a construct's normalised score over the sum of the
-- response's normalised scores, rounded to 6 decimals, with the largest weight absorbing the rounding so the
-- weights sum to exactly 1 (attributed parts then add up to the totals exactly). A respondent who scored 0 on
-- everything gets equal weights.
--
-- One profile per employee × wave, whichever vendors the wave ran on: of the employee's complete responses in the
-- wave, the latest submitted wins; a tie (the same response relayed by several vendors) goes to the vendor first in
-- var('survey_source_precedence'), then to the highest response id. The other responses count nowhere, so no
-- respondent is counted twice. A profile is valid from its response's submission until the employee's next
-- profile (a later wave), so a share is attributed to the profile its sharer had when sharing (point in time).

with

construct_scores as (

    select * from {{ ref('int_survey__construct_scores') }}

),

scored as (

    select
        *,
        count(*) over response_window as constructs,
        count(normalised_score) over response_window as constructs_scored,
        sum(normalised_score) over response_window as total_normalised_score
    from construct_scores
    window response_window as (partition by source, response_id)

),

complete as (

    -- a profile needs every construct: an unscored construct would silently get weight 0
    select * from scored
    where constructs_scored = constructs

),

counted_responses as (

    select distinct on (employee_id, wave)
        source,
        response_id,
        employee_id,
        wave,
        submitted_at
    from complete
    order by employee_id asc, wave asc, submitted_at desc, source_precedence asc, response_id desc

),

counted as (

    select complete.*
    from complete
    inner join counted_responses
        on complete.source = counted_responses.source
        and complete.response_id = counted_responses.response_id

),

unrounded as (

    select
        *,
        case
            when total_normalised_score = 0 then 1.0 / constructs
            else normalised_score / total_normalised_score
        end as exact_weight
    from counted

),

rounded as (

    select
        *,
        round(exact_weight, 6) as rounded_weight,
        row_number() over (
            partition by source, response_id
            order by exact_weight desc, construct asc
        ) as weight_rank
    from unrounded

),

balanced as (

    select
        *,
        case
            when weight_rank = 1
                then 1 - (sum(rounded_weight) over (partition by source, response_id) - rounded_weight)
            else rounded_weight
        end as weight
    from rounded

),

validity as (

    select
        source,
        response_id,
        submitted_at as valid_from,
        lead(submitted_at) over (partition by employee_id order by submitted_at, wave, source, response_id) as valid_to
    from counted_responses

),

final as (

    select
        balanced.source,
        balanced.response_id,
        balanced.wave,
        balanced.employee_id,
        balanced.construct,
        balanced.normalised_score,
        balanced.weight::numeric(7, 6) as weight,
        validity.valid_from,
        validity.valid_to
    from balanced
    inner join validity
        on balanced.source = validity.source
        and balanced.response_id = validity.response_id

)

select * from final
