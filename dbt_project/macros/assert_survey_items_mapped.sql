{#- Fails the build, naming each survey and its unmapped item keys, when a survey's answered items leave a
    construct of the instrument without any item mapped by the seed `survey_instrument` (its items then cannot be
    scored, and its respondents would get empty profiles instead). Run as a post-hook of int_survey__answers, at
    execution time, over the answers just built (`relation`): one row per answered item, `construct` null when
    the seed maps it neither for the survey nor for `*`. Items outside the instrument (a free-text question) are
    fine as long as every construct has an item. -#}
{% macro assert_survey_items_mapped(relation) %}
{%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- set constructs = var('motivation_constructs') -%}
        {%- set expected = "array[" ~ ("'" ~ constructs | join("', '") ~ "'") ~ "]::text[]" -%}
        {%- set query -%}
            with surveys as (
                select
                    source,
                    survey_id,
                    coalesce(array_agg(distinct construct) filter (where construct is not null), '{}') as mapped,
                    coalesce(array_agg(distinct item_key) filter (where construct is null), '{}') as unmapped
                from {{ relation }}
                group by source, survey_id
            )
            select
                source,
                survey_id,
                array_to_string(array(
                    select construct from unnest({{ expected }}) as construct
                    where not construct = any(surveys.mapped)
                ), ', ') as constructs_without_item,
                array_to_string(array(select item from unnest(surveys.unmapped) as item order by item), ', ')
                    as unmapped_item_keys
            from surveys
            where not surveys.mapped @> {{ expected }}
            order by source, survey_id
        {%- endset -%}
        {%- set problems = run_query(query) -%}
        {%- if problems.rows | length > 0 -%}
            {%- set lines = [] -%}
            {%- for row in problems.rows -%}
                {%- do lines.append(
                    "  " ~ row[0] ~ " survey " ~ row[1] ~ ": no item of " ~ row[2]
                    ~ "; unmapped item keys: " ~ (row[3] if row[3] else "(none answered)")
                ) -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                "The survey instrument (seeds/survey_instrument.csv) does not map the answered items of "
                ~ (problems.rows | length) ~ " survey(s), so a construct would have no item; add rows"
                ~ " (source, survey_id, item_key → construct) for them:\n" ~ lines | join("\n")
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
