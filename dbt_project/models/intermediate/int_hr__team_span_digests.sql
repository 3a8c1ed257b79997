-- One row per employee of the HR rosters: a hash of their spans in int_hr__roster_history (team, department and
-- validity), so fct_shares finds the sharers whose team at share time may have changed — a roster correction
-- reaching back, a move, an absence — without joining every share it holds to the roster history. Every roster
-- lists everyone, so "who is in the rosters landed since" would be every employee; the hash changes only for those
-- whose spans did.
--
-- Incremental (delete+insert on employee_id): a build writes only the employees whose hash changed (macro
-- employee_digests), so `built_at` says when their spans last changed.

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
    ref('int_hr__roster_history'),
    'team_spans_digest',
    columns=['team', 'department', 'valid_from', 'valid_to'],
    order_by=['valid_from'],
) }}
