{#- The newest `built_at` of `relation` (an incremental table), as text ('-infinity' when empty): read before the
    model's query, from the table's index on built_at, and written into it as a constant. A subquery's value,
    unknown when planning, got "built since" planned as a third of the table: a scan of every row. -#}
{% macro newest_built_at(relation) -%}
    {{- run_query("select coalesce((select max(built_at) from " ~ relation ~ "), '-infinity')::text").rows[0][0]
        if execute else '-infinity' -}}
{%- endmacro %}

{#- `true` (text, as macros give their values) when this build of `relation` (the model's own table) is incremental
    over rows stamped with `built_at`; empty in a full build, in a unit test (no relation), and in the first build of
    a table made before its model was incremental (it has no `built_at`; that build rebuilds every row and adds the
    column) — or before the model wrote one of the columns `also` names (rows not rebuilt would keep them null). -#}
{% macro builds_on_built_at(relation, also=[]) -%}
{%- if execute and relation is not none and is_incremental() %}
{%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list %}
{%- if (['built_at'] + also) | reject('in', columns) | list | length == 0 %}true{% endif %}
{%- endif -%}
{%- endmacro %}
