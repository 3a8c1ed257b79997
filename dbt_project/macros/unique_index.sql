{#- Keys held by unique indexes (the incremental tables, which grow with history: no nightly test reads every row
    for their keys). -#}

{#- SQL, true when `relation` has a unique index on exactly `columns`, in that order. -#}
{% macro has_unique_index(relation, columns) %}
exists (
    select
    from pg_index as index_
    where
        index_.indrelid = '{{ relation }}'::regclass
        and index_.indisunique
        and array(
            select attribute.attname::text
            from pg_attribute as attribute
            where attribute.attrelid = index_.indrelid and attribute.attnum = any(index_.indkey)
            order by array_position(index_.indkey::int2 [], attribute.attnum)
        ) = array[{% for column in columns %}'{{ column }}'{{ ", " if not loop.last }}{% endfor %}]::text []
)
{% endmacro %}

{#- A post-hook: give `relation` its key's unique index when it has none. dbt creates an incremental model's
    `indexes` with its table only, so a table built before its key's index was declared gets it on its next build
    (once; a duplicate key then fails the build, naming it); a no-op afterwards. -#}
{% macro ensure_unique_index(relation, columns) %}
do $ensure_unique_index$
begin
    if not {{ has_unique_index(relation, columns) }} then
        create unique index on {{ relation }} ({{ columns | join(", ") }});
    end if;
end
$ensure_unique_index$
{% endmacro %}
