{#- The query of an incremental model with one row per employee: `name`, a hash of the employee's rows of
    `relation` (its `columns`, in `order_by` order, after `salt`: a setting that changes what the rows mean); null
    once the employee has none left. A build writes only the employees whose hash changed (equals_built_row), so
    `built_at` is when an employee's rows last changed: a model derived from those rows per employee recomputes
    the employees built since its own last build instead of comparing every row it holds. -#}
{% macro employee_digests(relation, name, columns, order_by, salt='') %}
with

source_rows as (

    select * from {{ relation }}

),

digests as (

    select
        employee_id,
        md5(
            '{{ salt }}|'
            || string_agg(concat_ws('|', {{ columns | join(', ') }}), ',' order by {{ order_by | join(', ') }})
        ) as {{ name }}
    from source_rows
    group by employee_id

),

{% if is_incremental() %}
rows_gone as (

    select
        built.employee_id,
        null::text as {{ name }}
    from {{ this }} as built
    where not exists (
            select from digests
            where digests.employee_id = built.employee_id
        )

),
{% endif %}

candidates as (

    select * from digests
    {% if is_incremental() %}
    union all
    select * from rows_gone
    {% endif %}

),

final as (

    select
        employee_id,
        {{ name }},
        {{ dbt.current_timestamp() }} as built_at
    from candidates

)

select * from final
{% if is_incremental() -%}
where not {{ equals_built_row('final', 'employee_id') }}
{%- endif %}
{% endmacro %}
