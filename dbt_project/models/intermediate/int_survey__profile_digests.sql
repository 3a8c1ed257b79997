-- One row per employee who has, or had, a survey profile: a hash of everything of their profiles that decides how
-- their shares split over the motivations (every profile's wave, source, response, weights and validity, and the
-- first-profile lookback), so fct_share_motivation_attribution can find the sharers whose split may have changed
-- without comparing profiles. An employee whose profiles are all gone (responses withdrawn) keeps a row with a null
-- digest.
--
-- Incremental (delete+insert on employee_id): a build writes only the employees whose digest changed (macro
-- equals_built_row), so `built_at` says when an employee's profiles last changed and the attribution re-splits the
-- shares of the employees built since its own last build.

{{
    config(
        materialized='incremental',
        unique_key='employee_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['employee_id'], 'unique': true},
            {'columns': ['built_at']},
        ],
        post_hook=["{{ ensure_indexes(this, model.config.indexes) }}", "analyze {{ this }}"],
        on_schema_change='fail',
    )
}}

with

motivation_weights as (

    select * from {{ ref('int_survey__motivation_weights') }}

),

digests as (

    select
        employee_id,
        md5(
            '{{ var("first_profile_lookback_days") }}|'
            || string_agg(
                concat_ws('|', wave, source, response_id, construct, weight, valid_from, valid_to),
                ',' order by valid_from, construct
            )
        ) as profile_digest
    from motivation_weights
    group by employee_id

),

{% if is_incremental() %}
profiles_gone as (

    select
        built.employee_id,
        null::text as profile_digest
    from {{ this }} as built
    where not exists (
            select from digests
            where digests.employee_id = built.employee_id
        )

),
{% endif %}

candidates as (

    select * from digests
    {% if is_incremental() -%}
    union all
    select * from profiles_gone
    {%- endif %}

),

final as (

    select
        employee_id,
        profile_digest,
        {{ dbt.current_timestamp() }} as built_at
    from candidates

)

select * from final
{% if is_incremental() -%}
where not {{ equals_built_row('final', 'employee_id') }}
{%- endif %}
