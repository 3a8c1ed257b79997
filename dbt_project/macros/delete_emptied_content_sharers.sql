{#- A post-hook of mart_content_sharers: delete the content × sharer pairs no share holds any more (every share of
    the pair withdrawn, or moved to another pair, by a corrected export: delete+insert replaces only the pairs the
    build wrote rows for). Only a superseded share can empty a pair, so only their pairs are probed, each through
    fct_shares' index on employee_id; corrections are rare, so reading every one ever made stays small. -#}
{% macro delete_emptied_content_sharers(relation, shares, superseded_shares) %}
delete from {{ relation }} as built
using {{ superseded_shares }} as superseded
where
    built.content_id = superseded.content_id
    and built.employee_id = superseded.employee_id
    and not exists (
        select from {{ shares }} as shares
        where shares.employee_id = built.employee_id and shares.content_id = built.content_id
    )
{% endmacro %}
