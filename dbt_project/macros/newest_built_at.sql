{#- The newest `built_at` of `relation` (an incremental table), as text ('-infinity' when empty): read before the
    model's query, from the table's index on built_at, and written into it as a constant. A subquery's value,
    unknown when planning, got "built since" planned as a third of the table: a scan of every row. -#}
{% macro newest_built_at(relation) -%}
    {{- run_query("select coalesce((select max(built_at) from " ~ relation ~ "), '-infinity')::text").rows[0][0]
        if execute else '-infinity' -}}
{%- endmacro %}
