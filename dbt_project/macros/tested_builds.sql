{#- dbt's row-local data tests of the incremental tables read the rows built since the table's last fully tested
    build, not every row: at a million shares those tests were most of what a night's `dbt build` spent on history.

    A build whose run tested an incremental table with every one of its data tests, all passing, records how far
    those tests read (`dbt_state.tested_builds`: the table, its newest `built_at` then; on-run-end). The next
    builds' not_null, accepted_values, expression_is_true and sums_to_one tests of that table read only the rows
    built after it (get_where_subquery below): whether one of them passes depends on a row alone (sums_to_one on a
    share's rows, which a build always rewrites together), and a row that passed keeps passing until a build
    rewrites it, which stamps it anew. Tests that read other rows or tables (relationships, unique_combination) keep
    reading every row, unless the test's config says why a row that passed keeps passing (`meta:
    reads_rows_built_since: <why>`; e.g. a relationships test whose parent loses a key only in a way the child
    mirrors in the same build). A run that skipped or failed any test of a table records nothing for it, so its next
    runs read again from the last fully tested build; `--full-refresh` stamps every row, so every row is tested
    again. -#}

{#- on-run-start: the record's table (dbt's own state; no model reads it). -#}
{% macro create_tested_builds() %}
create schema if not exists dbt_state;
create table if not exists dbt_state.tested_builds (
    relation text primary key,
    tested_through timestamptz not null,
    recorded_at timestamptz not null default now()
)
{% endmacro %}

{#- on-run-end: record each incremental table whose every data test ran in this run and passed. -#}
{% macro record_tested_builds(results) %}
{%- if execute %}
{%- set statuses = {} %}
{%- for result in results if result.node.resource_type == 'test' and result.node.attached_node %}
{%- do statuses.setdefault(result.node.attached_node, []).append(result.status | string) %}
{%- endfor %}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.materialized == 'incremental' %}
{%- set tests = graph.nodes.values() | selectattr('resource_type', 'equalto', 'test')
    | selectattr('attached_node', 'equalto', node.unique_id) | list %}
{%- set ran = statuses.get(node.unique_id, []) %}
{%- if tests and ran | length == tests | length and ran | reject('equalto', 'pass') | list | length == 0 %}
insert into dbt_state.tested_builds (relation, tested_through)
select '{{ node.schema }}.{{ node.alias }}', max(built_at) from {{ node.relation_name }}
having max(built_at) is not null
on conflict (relation) do update set tested_through = excluded.tested_through, recorded_at = now();
{%- endif %}
{%- endfor %}
{%- endif %}
{% endmacro %}

{#- The newest `built_at` the row-local tests of the current test's table have already read (text), or '' when the
    test reads every row: not a row-local test (nor one whose config says it may read the rows built since), not on
    an incremental table, or no tested build recorded. -#}
{% macro tested_through() %}
{%- set row_local_tests = ['not_null', 'accepted_values', 'expression_is_true', 'sums_to_one'] %}
{%- set attached = graph.nodes.get(model.attached_node) if execute and model.attached_node else none %}
{%- set reads_rows_built_since = (model.test_metadata or {}).get('name') in row_local_tests
    or (model.config.get('meta') or {}).get('reads_rows_built_since') %}
{%- if attached and attached.config.materialized == 'incremental' and reads_rows_built_since %}
{%- set rows = run_query(
    "select tested_through::text from dbt_state.tested_builds where relation = '"
    ~ attached.schema ~ "." ~ attached.alias ~ "'"
).rows %}
{{- rows[0][0] if rows else '' -}}
{%- endif %}
{% endmacro %}

{#- dbt's own, with the rows a test has already read left out (tested_through) beside the test's `where` config. -#}
{% macro get_where_subquery(relation) -%}
{%- set conditions = ['(' ~ config.get('where') ~ ')'] if config.get('where') else [] %}
{%- set since = tested_through() | trim %}
{%- if since %}
{%- do conditions.append("built_at > '" ~ since ~ "'::timestamptz") %}
{%- endif %}
{%- if conditions %}
{%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') %}
{%- else %}
{%- do return(relation) %}
{%- endif %}
{%- endmacro %}
