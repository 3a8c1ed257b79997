{#- The shape bi.obligation_signals and bi.salesy_risk share: per team × month of marts.mart_team_month_behaviour,
    measures, each signal beside the measure behind it (raised when the measure crosses its threshold), and a flag
    when enough are raised. Each model states its measures and signals; these macros state the rules common to
    both: survey confidentiality, the count of signals, low volume, the flag, and the month's completeness. -#}

{#- Whether the team × month's survey-derived values are suppressed (fewer than var('k_anonymity') respondents). -#}
{% macro team_month_is_suppressed() -%}
respondents < {{ var('k_anonymity') }}
{%- endmacro %}

{#- The share of the team × month's surveyed shares attributed to `construct`; null when suppressed. -#}
{% macro team_month_survey_share(construct) -%}
    case
        when respondents >= {{ var('k_anonymity') }}
            then round(({{ construct }}_attributed_shares / nullif(surveyed_shares, 0))::numeric, 4)
    end
{%- endmacro %}

{#- The rest of the model after the CTE `signals_cte`, whose last columns are the boolean signals `signals`:
    their count (a suppressed, null signal does not count), `is_low_volume` (fewer than var('signal_min_shares')
    shares: never flagged, a handful of shares makes every rate swing), the flag `flag` (at least
    `thresholds.min_signals` raised), and the month's `is_complete` and `days_covered`. -#}
{% macro team_month_flag(signals_cte, signals, thresholds, flag) -%}
counted as (

    select
        *,
        (
            {% for signal in signals -%}
coalesce({{ signal }}::integer, 0){{ " + " if not loop.last }}
{%- endfor %}
        )::integer as signals_raised,
        shares < {{ var('signal_min_shares') }} as is_low_volume
    from {{ signals_cte }}

),

months as (

    select * from {{ ref('dim_month') }}

)

select
    counted.*,
    counted.signals_raised >= {{ thresholds['min_signals'] }} and not counted.is_low_volume as {{ flag }},
    months.is_complete,
    months.days_covered
from counted
left join months on counted.month = months.month
{%- endmacro %}
