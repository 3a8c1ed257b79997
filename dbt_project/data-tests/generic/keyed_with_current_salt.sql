{#- An incremental table's pseudonymous keys (`column_name`) are those of its ids (`id_column`) under the current
    pseudonym salt (macro employee_key), checked on one row of each build: one build writes all its rows in one
    statement, under one salt, so a row tells its build's. What lets the relationships test from the keys to
    dim_employee (rebuilt whole, under the current salt) read only the rows built since: a new salt changes every
    key, and the rows no build rewrote since keep the old ones — this test then fails until a full refresh. It
    reads the builds through the table's index on built_at (macro distinct_values), one row each. -#}
{% test keyed_with_current_salt(model, column_name, id_column) %}

with

builds as (

    {{ distinct_values(model, 'built_at') }}

)

select
    sampled.built_at,
    sampled.{{ id_column }},
    sampled.{{ column_name }}
from builds
cross join lateral (
    select
        built_at,
        {{ id_column }},
        {{ column_name }}
    from {{ model }} as built
    where built.built_at = builds.built_at
    limit 1
) as sampled
where sampled.{{ column_name }} is distinct from {{ employee_key('sampled.' ~ id_column) }}

{% endtest %}
