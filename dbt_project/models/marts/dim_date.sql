-- One row per day from the first share to the latest share or metrics night: the calendar facts join to
-- (share_date, activity_date). The bounds are read from the facts' indexes on those dates (a scan of both grew
-- with the history: 1.4 s of reads at a million shares).

with

bounds as (

    select
        min(share_date) as first_day,
        greatest(max(share_date), (select max(activity_date) from {{ ref('fct_post_engagement_daily') }})) as last_day
    from {{ ref('fct_shares') }}

),

days as (

    select day::date as date_day
    from bounds
    cross join generate_series(bounds.first_day, bounds.last_day, interval '1 day') as days (day)

),

final as (

    select
        date_day,
        date_trunc('month', date_day)::date as month_start,
        date_trunc('week', date_day)::date as iso_week_start,
        extract(isoyear from date_day)::integer as iso_year,
        extract(week from date_day)::integer as iso_week,
        extract(isodow from date_day)::integer as iso_day_of_week,
        extract(isodow from date_day) >= 6 as is_weekend
    from days

)

select * from final
