{#- Primary-key test for the incremental tables, which grow with history: their keys are held by a unique index
    (config `indexes`), which refuses a duplicate while the build writes it, so no nightly test reads the whole
    table for it. This test reads the catalog only: it fails (one row) when `model` has no unique index on exactly
    `columns`, in that order — as a table built before its index was declared has none (dbt creates an incremental
    model's indexes when it creates the table): `create unique index on <table> (<columns>)` gives it one (README,
    "Upgrading a warehouse"), as does `dbt build --full-refresh --select <model>`. -#}
{% test held_by_unique_index(model, columns) %}

select
    '{{ model }}' as relation,
    '{{ columns | join(", ") }}' as key_without_a_unique_index
where not exists (
        select
        from pg_index as index_
        where
            index_.indrelid = '{{ model }}'::regclass
            and index_.indisunique
            and array(
                select attribute.attname::text
                from pg_attribute as attribute
                where attribute.attrelid = index_.indrelid and attribute.attnum = any(index_.indkey)
                order by array_position(index_.indkey::int2 [], attribute.attnum)
            ) = array[{% for column in columns %}'{{ column }}'{{ ", " if not loop.last }}{% endfor %}]::text []
    )

{% endtest %}
