{#- fct_shares' pre-hook (incremental builds): delete the built shares that a corrected export withdrew since the
    last build. A share leaves raw only when the drop file that landed it is replaced by a corrected version
    without it (its row then moves to raw._superseded_rows, ingestion/file_manifest.py), so the candidates are the
    shares superseded since the table's newest build, minus var('incremental_lookback_hours'): looked up by their
    key, where a check of every built share against raw grew with the history. -#}
{% macro withdraw_superseded_shares(relation) %}
delete from {{ relation }} as built
where
    built.share_id in (
        select superseded.share_id
        from {{ ref('stg_advocacy__superseded_shares') }} as superseded
        where superseded.superseded_at > (
                select coalesce(max(built_at), '-infinity') - interval '{{ var("incremental_lookback_hours") }} hours'
                from {{ relation }}
            )
    )
    and not exists (
        select from {{ ref('stg_advocacy__shares') }} as landed
        where landed.share_id = built.share_id
    )
{% endmacro %}
