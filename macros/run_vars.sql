{#-
  Run parameters: the one place that parses, validates and renders the dbt vars declared in
  dbt_project.yml. Models read run parameters only through these macros, so a malformed value fails
  at compile time (before any SQL runs) with a message naming the var and the expected form.
-#}

{% macro _run_var_error(name, value, expected) %}
    {{ exceptions.raise_compiler_error(
        "invalid dbt var " ~ name ~ "=" ~ (value | string) ~ ": expected " ~ expected ~ " (set it with --vars)") }}
{% endmacro %}

{% macro _is_unset(value) %}
    {{ return(value is none or (value | string | trim) in ('', 'none', 'null', 'None')) }}
{% endmacro %}

{% macro _check_calendar_date(name, value, y, m, d) %}
    {%- if m < 1 or m > 12 or d < 1 -%}{{ _run_var_error(name, value, 'a real calendar date') }}{%- endif -%}
    {%- set first_next = modules.datetime.date(y + (1 if m == 12 else 0), 1 if m == 12 else m + 1, 1) -%}
    {%- set last_day = (first_next - modules.datetime.timedelta(days=1)).day -%}
    {%- if d > last_day -%}{{ _run_var_error(name, value, 'a real calendar date') }}{%- endif -%}
{% endmacro %}

{#- target_date as 'YYYY-MM-DD' text, or none when unset (gold-only build). -#}
{% macro target_date_value() %}
    {%- set value = var('target_date', none) -%}
    {%- if _is_unset(value) -%}{{ return(none) }}{%- endif -%}
    {%- set text = value | string | trim -%}
    {%- set m = modules.re.match('^(\\d{4})-(\\d{2})-(\\d{2})$', text) -%}
    {%- if not m -%}{{ _run_var_error('target_date', value, 'a date YYYY-MM-DD') }}{%- endif -%}
    {{- _check_calendar_date('target_date', value, m.group(1) | int, m.group(2) | int, m.group(3) | int) -}}
    {{ return(text) }}
{% endmacro %}

{#- run_as_of_ts normalised to UTC text 'YYYY-MM-DD HH:MM:SS.ffffff+00:00', or none when unset.
    Naive timestamps are refused: an instant without an offset is ambiguous. -#}
{% macro run_as_of_ts_value() %}
    {%- set value = var('run_as_of_ts', none) -%}
    {%- if _is_unset(value) -%}{{ return(none) }}{%- endif -%}
    {%- set text = value | string | trim -%}
    {%- set m = modules.re.match('^(\\d{4})-(\\d{2})-(\\d{2})[T ](\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,6}))?)?(Z|z|[+-]\\d{2}:?\\d{2})$', text) -%}
    {%- if not m -%}
        {{ _run_var_error('run_as_of_ts', value, 'an ISO-8601 timestamp with a UTC offset, e.g. 2022-07-01T00:00:00Z') }}
    {%- endif -%}
    {{- _check_calendar_date('run_as_of_ts', value, m.group(1) | int, m.group(2) | int, m.group(3) | int) -}}
    {%- set hh = m.group(4) | int -%}{%- set mi = m.group(5) | int -%}{%- set ss = (m.group(6) or '0') | int -%}
    {%- if hh > 23 or mi > 59 or ss > 59 -%}{{ _run_var_error('run_as_of_ts', value, 'a valid time of day') }}{%- endif -%}
    {%- set us = ((m.group(7) or '0') ~ '000000')[:6] | int -%}
    {%- set off = m.group(8) | upper -%}
    {%- set off_minutes = 0 if off == 'Z' else ((1 if off[0] == '+' else -1) * ((off[1:3] | int) * 60 + (off[-2:] | int))) -%}
    {%- set tz = modules.pytz.FixedOffset(off_minutes) -%}
    {%- set local = modules.datetime.datetime(m.group(1) | int, m.group(2) | int, m.group(3) | int, hh, mi, ss, us, tzinfo=tz) -%}
    {%- set utc = local.astimezone(modules.pytz.utc) -%}
    {{ return(utc.strftime('%Y-%m-%d %H:%M:%S.%f') ~ '+00:00') }}
{% endmacro %}

{#- A non-negative integer var. -#}
{% macro non_negative_int_var(name) %}
    {%- set value = var(name) -%}
    {%- if value is boolean or value is none -%}{{ _run_var_error(name, value, 'a non-negative integer') }}{%- endif -%}
    {%- if value is number -%}
        {%- if value < 0 or value != (value | int) -%}{{ _run_var_error(name, value, 'a non-negative integer') }}{%- endif -%}
        {{ return(value | int) }}
    {%- endif -%}
    {%- if not modules.re.match('^\\d+$', value | string | trim) -%}{{ _run_var_error(name, value, 'a non-negative integer') }}{%- endif -%}
    {{ return(value | string | trim | int) }}
{% endmacro %}

{#- A boolean var: true/false (YAML) or the strings true/false. -#}
{% macro bool_var(name) %}
    {%- set value = var(name) -%}
    {%- if value is boolean -%}{{ return(value) }}{%- endif -%}
    {%- set text = value | string | trim | lower -%}
    {%- if text in ('true', 'false') -%}{{ return(text == 'true') }}{%- endif -%}
    {{ _run_var_error(name, value, 'true or false') }}
{% endmacro %}

{#- SQL literals for models. -#}
{% macro run_as_of_ts_sql() %}
    {%- set v = run_as_of_ts_value() -%}
    {{- return("cast(null as timestamp with time zone)" if v is none else "cast('" ~ v ~ "' as timestamp with time zone)") -}}
{% endmacro %}

{% macro target_date_sql() %}
    {%- set v = target_date_value() -%}
    {{- return("cast(null as date)" if v is none else "cast('" ~ v ~ "' as date)") -}}
{% endmacro %}

{#- Validate every run var at once (on-run-start and at the top of int_game_cutoffs). -#}
{% macro validate_run_vars() %}
    {%- set td = target_date_value() -%}
    {%- set ts = run_as_of_ts_value() -%}
    {%- if td is not none and ts is none -%}
        {{ _run_var_error('run_as_of_ts', none, 'a timestamp whenever target_date is set (a live run is defined by date and as-of instant)') }}
    {%- endif -%}
    {%- for name in ['history_days', 'gold_lead_minutes', 'roster_fallback_days', 'roster_max_age_hours',
                     'injuries_max_age_hours', 'odds_max_age_hours', 'min_active_roster'] -%}
        {%- do non_negative_int_var(name) -%}
    {%- endfor -%}
    {%- do bool_var('allow_missing_injuries') -%}
    {%- do bool_var('allow_missing_odds') -%}
    {%- do bool_var('build_gold') -%}
    {{ return('select 1 as run_vars_valid') }}
{% endmacro %}
