{#- A pre-hook of the share-grain incremental marts: delete the rows of shares that a corrected export withdrew
    since the table's last build (and that `kept_in`, the table's source of shares, no longer has). A share leaves
    raw only when the drop file that landed it is replaced by a corrected version without it (its row then moves to
    raw._superseded_rows, ingestion/file_manifest.py), so the candidates are `superseded_shares` since the table's
    newest build, minus var('incremental_lookback_hours'): looked up by their key, where a check of every built
    share against its source grew with the history. Both relations are arguments so that dbt sees the refs when it
    parses the hook (the build order). A table keyed by something else than the share looks its rows up by
    `by` (its column) = `superseded_by` (the superseded share's), e.g. the post. With `kept_in` none, the rows of
    every share replaced since go, withdrawn or landed again (a table that must derive the row anew from the
    share's new version). -#}
{% macro withdraw_superseded_shares(relation, kept_in, superseded_shares, by='share_id', superseded_by='share_id') %}
{%- if builds_on_built_at(relation) | trim == 'true' %}
delete from {{ relation }} as built
where
    built.{{ by }} in (
        select superseded.{{ superseded_by }}
        from {{ superseded_shares }} as superseded
        where superseded.superseded_at > (
                select coalesce(max(built_at), '-infinity') - interval '{{ var("incremental_lookback_hours") }} hours'
                from {{ relation }}
            )
    )
{%- if kept_in is not none %}
    and not exists (
        select from {{ kept_in }} as kept
        where kept.share_id = built.share_id
    )
{%- endif %}
{%- endif %}
{% endmacro %}
