{#- The incremental tables' indexes: their keys held by unique indexes (no nightly test reads every row for them)
    and the columns their incremental builds look rows up by, so a night reads what changed, not the history.
    Each incremental model also runs `analyze` after its build (post-hook): the next model's lookups of "built
    since" are planned with the night's rows counted (with the statistics of before the build PostgreSQL expected
    none and nested a loop over them: fct_post_engagement_daily ran over 3 minutes, and was stopped, instead of a
    tenth of a second on a night at 1M shares). -#}

{#- SQL, true when `relation` has an index on exactly `columns`, in that order (a unique one when `unique`). -#}
{% macro has_index(relation, columns, unique=false) %}
exists (
    select
    from pg_index as index_
    where
        index_.indrelid = '{{ relation }}'::regclass
        {% if unique -%} and index_.indisunique {%- endif %}
        and array(
            select attribute.attname::text
            from pg_attribute as attribute
            where attribute.attrelid = index_.indrelid and attribute.attnum = any(index_.indkey)
            order by array_position(index_.indkey::int2 [], attribute.attnum)
        ) = array[{% for column in columns %}'{{ column }}'{{ ", " if not loop.last }}{% endfor %}]::text []
)
{% endmacro %}

{#- A post-hook: give `relation` each of `indexes` (the model's `indexes` config) it lacks. dbt creates an
    incremental model's `indexes` with its table only, so a table built before an index was declared gets it on its
    next build (once; a duplicate key then fails the build, naming it); a no-op afterwards. -#}
{% macro ensure_indexes(relation, indexes) %}
do $ensure_indexes$
begin
{%- for index in indexes %}
    if not {{ has_index(relation, index.columns, index.get('unique', false)) }} then
        create {{ "unique " if index.get('unique', false) }}index on {{ relation }} ({{ index.columns | join(", ") }});
    end if;
{%- endfor %}
end
$ensure_indexes$
{% endmacro %}
