-- One row per calendar month from the first share's to the month of the last night the build covers, with how many
-- of its days the data covers: the month of the night being built is partial until its last day has been built.
-- The last night covered is var('data_through') (a transform run that names its night passes it,
-- sharewhy.transform); a build without it (scheduled and asset-triggered runs, a hand-run `dbt build`) takes the
-- latest share date instead, and so does a build whose night is older than its latest share (a backfill over newer
-- data).

with

bounds as (

    select
        min(share_month) as first_month,
        {%- if var('data_through') %}
        -- never before the latest share: a backfill of an older night over newer data covers that data too
        greatest('{{ var("data_through") }}'::date, max(share_date)) as data_through
        {%- else %}
        max(share_date) as data_through
        {%- endif %}
    from {{ ref('fct_shares') }}

),

months as (

    select
        month::date as month,
        bounds.data_through
    from bounds
    cross join generate_series(bounds.first_month, date_trunc('month', bounds.data_through), interval '1 month')
        as months (month)

),

final as (

    select
        month,
        ((month + interval '1 month')::date - month)::integer as days_in_month,
        greatest(least(data_through - month + 1, (month + interval '1 month')::date - month), 0)::integer
            as days_covered,
        data_through
    from months

)

select
    month,
    days_in_month,
    days_covered,
    days_covered = days_in_month as is_complete,
    data_through
from final
