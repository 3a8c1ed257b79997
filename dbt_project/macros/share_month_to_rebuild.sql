{#- A month-grain incremental mart's filter: SQL, true when `column` (a share month) is one the build rebuilds —
    every month in a full build; in an incremental one, the months of the shares its share-month inputs (`inputs`:
    fct_shares and, by default, the attribution) built since the table's newest build, and of the shares a
    corrected export withdrew since then (minus var('incremental_lookback_hours'), as withdraw_superseded_shares
    reads them: a withdrawn share's month, and its old month when the correction moved it). Nothing else changes
    what a share-month holds, so the mart rebuilds each of these months whole (delete+insert on `month`, distinct
    counts within a month stay exact) and keeps every other. The months are read before the build and written in
    as a constant array, looked up through the tables' indexes on built_at. A month left with no share is deleted
    after the build (macro delete_emptied_months). `also_changed_in`: more inputs of the mart, each {'relation',
    'month' (SQL of a row's month), 'at' (its landing or build time)}; their months with rows newer than the table's
    newest build are rebuilt too. -#}
{% macro share_month_to_rebuild(
    column, inputs=['fct_shares', 'fct_share_motivation_attribution'], also_changed_in=[]
) %}
{#- the refs outside any condition, so that dbt sees them when it parses the model (the build order) #}
{%- set changed_in = [] %}
{%- for name in inputs %}
{%- do changed_in.append({'relation': ref(name), 'month': 'share_month', 'at': 'built_at'}) %}
{%- endfor %}
{%- do changed_in.extend(also_changed_in) %}
{%- set superseded_shares = ref('stg_advocacy__superseded_shares') %}
{%- if execute and is_incremental() %}
{%- set since = newest_built_at(this) %}
{%- set query %}
    select coalesce(array_agg(distinct month)::text, '{}')
    from (
{%- for changed in changed_in %}
        select {{ changed.month }} as month from {{ changed.relation }} where {{ changed.at }} > '{{ since }}'::timestamptz
        union
{%- endfor %}
        select date_trunc('month', shared_at at time zone 'UTC')::date from {{ superseded_shares }}
        where superseded_at > '{{ since }}'::timestamptz - interval '{{ var("incremental_lookback_hours") }} hours'
    ) as changed
{%- endset %}
{{ column }} = any('{{ run_query(query).rows[0][0] }}'::date [])
{%- else %}
true
{%- endif %}
{% endmacro %}

{#- A post-hook of the month-grain incremental marts: delete the months no share holds any more (their shares all
    withdrawn: delete+insert replaces only the months the build wrote rows for). One probe per month through
    fct_shares' index on share_month. -#}
{% macro delete_emptied_months(relation, shares) %}
delete from {{ relation }} as built
where not exists (
    select from {{ shares }} as shares
    where shares.share_month = built.month
)
{% endmacro %}
