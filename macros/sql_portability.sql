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
{% macro spark__ts_minus(ts, amount, unit) -%}
    {#- Spark's interval literals take numbers only; timestampadd takes any integer expression -#}
    timestampadd({{ unit | upper }}, -cast({{ amount }} as bigint), {{ ts }})
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
{% macro spark__days_between(d_from, d_to) -%}
    datediff(cast({{ d_to }} as date), cast({{ d_from }} as date))
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
{% macro spark__ts_epsilon_after(ts) -%}
    timestampadd(MICROSECOND, 1, {{ ts }})
{%- endmacro %}
{% macro duckdb__ts_epsilon_after(ts) -%}
    ({{ ts }} + to_microseconds(1))
{%- endmacro %}

{#- Fractional literals in arithmetic are written as doubles (`36.0e0`, not `36.0`): a plain `36.0` is a
    DECIMAL on both engines, and Spark's decimal division keeps only 6 decimal places where DuckDB's returns
    a double, so the same expression would differ past the 6th decimal. -#}

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

{#- Type names. An instant is DuckDB's `timestamp with time zone`; Spark has no such type name, and its
    TIMESTAMP is the same thing (an instant, shown in the session time zone, which the profile pins to UTC).
    Text is `varchar` on DuckDB, `string` on Spark (its varchar needs a length). -#}
{% macro timestamptz_type() %}
    {{- return(adapter.dispatch('timestamptz_type', 'minutes_live')()) -}}
{% endmacro %}
{% macro default__timestamptz_type() %}{{ return('timestamp with time zone') }}{% endmacro %}
{% macro spark__timestamptz_type() %}{{ return('timestamp') }}{% endmacro %}

{% macro string_type() %}
    {{- return(adapter.dispatch('string_type', 'minutes_live')()) -}}
{% endmacro %}
{% macro default__string_type() %}{{ return('varchar') }}{% endmacro %}
{% macro spark__string_type() %}{{ return('string') }}{% endmacro %}

{#- Regular expressions (patterns are written once, in the RE2/Java subset both engines read). Spark's
    string literals treat a backslash as an escape, so the pattern's backslashes are doubled there. -#}
{% macro regex_contains(expression, pattern) %}
    {{ return(adapter.dispatch('regex_contains', 'minutes_live')(expression, pattern)) }}
{% endmacro %}
{% macro default__regex_contains(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}
{% macro spark__regex_contains(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern | replace("\\", "\\\\") }}')
{%- endmacro %}

{#- Replace every match. -#}
{% macro regex_replace_all(expression, pattern, replacement) %}
    {{ return(adapter.dispatch('regex_replace_all', 'minutes_live')(expression, pattern, replacement)) }}
{% endmacro %}
{% macro default__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}
{% macro spark__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern | replace("\\", "\\\\") }}', '{{ replacement }}')
{%- endmacro %}
