{#- One half-step of the Poisson fit count ~ exposure × α_level × β_motivation (motivation_lift): given one factor,
    the other's maximum-likelihood value per fit group and replicate is Σ count / Σ exposure × the given factor.
    `factor` is what is updated ('alpha': per content level, from `given` β; 'beta': per motivation, from `given`
    α); `cells` holds (replicate, group_id, level_id, motivation_id, <rate>_exposure, <rate>_count). -#}
{% macro poisson_update(factor, cells, given, rates) -%}
    {%- set key, given_factor, given_key = ('level_id', 'beta', 'motivation_id') if factor == 'alpha'
        else ('motivation_id', 'alpha', 'level_id') %}
    select
        cells.replicate,
        cells.group_id,
        cells.{{ key }},
{%- for rate in rates %}
        sum(cells.{{ rate }}_count) / nullif(sum(cells.{{ rate }}_exposure * given.{{ rate }}_{{ given_factor }}), 0)
            as {{ rate }}_{{ factor }}{{ "," if not loop.last }}
{%- endfor %}
    from {{ cells }} as cells
    inner join {{ given }} as given using (replicate, group_id, {{ given_key }})
    group by cells.replicate, cells.group_id, cells.{{ key }}
{%- endmacro %}
