{#-
  Engine-specific SQL lives here, behind adapter.dispatch, so models stay portable
  (DuckDB is the embedded default; Spark/Trino implementations can be added as <adapter>__ macros).
-#}

{#- ts minus a whole number of hours / minutes / days (absolute time: DST-safe on UTC instants). -#}
{% macro ts_minus(ts, amount, unit) %}
    {{ return(adapter.dispatch('ts_minus', 'minutes_live')(ts, amount, unit)) }}
{% endmacro %}
{% macro default__ts_minus(ts, amount, unit) -%}
    ({{ ts }} - interval '{{ amount }}' {{ unit }})
{%- endmacro %}
{% macro duckdb__ts_minus(ts, amount, unit) -%}
    ({{ ts }} - to_{{ unit }}s(cast({{ amount }} as bigint)))
{%- endmacro %}

{#- Whole days from date d_from to date d_to. -#}
{% macro days_between(d_from, d_to) %}
    {{ return(adapter.dispatch('days_between', 'minutes_live')(d_from, d_to)) }}
{% endmacro %}
{% macro default__days_between(d_from, d_to) -%}
    datediff(day, {{ d_from }}, {{ d_to }})
{%- endmacro %}
{% macro duckdb__days_between(d_from, d_to) -%}
    date_diff('day', cast({{ d_from }} as date), cast({{ d_to }} as date))
{%- endmacro %}

{#- Continuous percentile of a column inside a GROUP BY aggregate (NULLs ignored). -#}
{% macro percentile_cont(column, fraction) %}
    {{ return(adapter.dispatch('percentile_cont', 'minutes_live')(column, fraction)) }}
{% endmacro %}
{% macro default__percentile_cont(column, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ column }})
{%- endmacro %}
{% macro duckdb__percentile_cont(column, fraction) -%}
    quantile_cont({{ column }}, {{ fraction }})
{%- endmacro %}

{#- The instant just after ts (timestamps have microsecond precision): x > ts  <=>  x >= ts_epsilon_after(ts). -#}
{% macro ts_epsilon_after(ts) %}
    {{ return(adapter.dispatch('ts_epsilon_after', 'minutes_live')(ts)) }}
{% endmacro %}
{% macro default__ts_epsilon_after(ts) -%}
    ({{ ts }} + interval '1' microsecond)
{%- endmacro %}
{% macro duckdb__ts_epsilon_after(ts) -%}
    ({{ ts }} + to_microseconds(1))
{%- endmacro %}

{#- Aggregates over doubles (avg, stddev, sums of 0.44 x FTA) can differ in the last bits with the
    engine's parallel combine order; rounding to 9 decimals makes re-runs byte-identical
    (architecture: a run is reproducible) at no modelling cost. -#}
{% macro stable_double(expression) -%}
    cast(round(cast({{ expression }} as double), 9) as double)
{%- endmacro %}

{#- One row per whole day 0..max_days (max_days: an integer SQL expression over `relation`, e.g. a
    run_context column): day_offset, to expand a date into the window of dates before it as an equi-join. -#}
{% macro day_offsets(relation, max_days) %}
    {{ return(adapter.dispatch('day_offsets', 'minutes_live')(relation, max_days)) }}
{% endmacro %}
{% macro default__day_offsets(relation, max_days) -%}
    select explode(sequence(0, {{ max_days }})) as day_offset from {{ relation }}
{%- endmacro %}
{% macro duckdb__day_offsets(relation, max_days) -%}
    select cast(unnest(range(0, {{ max_days }} + 1)) as integer) as day_offset from {{ relation }}
{%- endmacro %}
