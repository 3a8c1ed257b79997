-- One row per employee who has, or had, a survey profile: a hash of everything of their profiles that decides how
-- their shares split over the motivations (every profile's wave, source, response, weights and validity, and the
-- first-profile lookback), so fct_share_motivation_attribution finds the sharers whose split may have changed
-- without comparing profiles. An employee whose profiles are all gone (responses withdrawn) keeps a row with a null
-- digest.
--
-- Incremental (delete+insert on employee_id): a build writes only the employees whose digest changed (macro
-- employee_digests), so `built_at` says when an employee's profiles last changed and the attribution splits again
-- the shares of the employees built since its own last build.

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

{{ employee_digests(
    ref('int_survey__motivation_weights'),
    'profile_digest',
    columns=['wave', 'source', 'response_id', 'construct', 'weight', 'valid_from', 'valid_to'],
    order_by=['valid_from', 'construct'],
    salt=var('first_profile_lookback_days'),
) }}
