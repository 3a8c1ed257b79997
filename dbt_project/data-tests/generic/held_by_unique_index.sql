{#- Primary-key test for the incremental tables and the raw tables, which grow with history: their keys are held by a
    unique index (config `indexes`, the post-hook `ensure_indexes` adding it to a table built before it was declared;
    ingestion/raw_schema.sql for raw), which refuses a duplicate while the build writes it, so no nightly test reads
    the whole table for it. This test reads the catalog only: it fails (one row) when `model` has no unique index on
    exactly `columns`, in that order. -#}
{% test held_by_unique_index(model, columns) %}

select
    '{{ model }}' as relation,
    '{{ columns | join(", ") }}' as key_without_a_unique_index
where not {{ has_index(model, columns, unique=true) }}

{% endtest %}
