{#-
  Run parameters: the one place that parses, validates and renders them. Two ways in, one set of checks:
    - dbt vars (`dbt build --vars '{target_date: ..., run_as_of_ts: ...}'`, defaults in dbt_project.yml);
    - the env var MINUTES_LIVE_RUN_PARAMS, a JSON object with the same keys, which is how the Python runner
      passes them (minutes_live/pipeline/dbt_runner.py). dbt re-parses the whole project whenever --vars change
      (dbt-core #6323), and re-parses every file that read an env var at parse time whose value changed
      (run_context.sql, and with it the models carrying tests that read run_context: about 1.2 s). So the
      env var is read only when dbt executes (`execute`), never while parsing: a new run re-parses nothing.
      When it is set, run parameters given with --vars are refused.
  Models never render run parameters into their SQL: they read the one-row table `run_context`
  (models/run_context.sql) at run time, so their compiled SQL is the same for every run. A malformed value
  fails when run_context compiles, before any model that depends on it runs, naming the parameter.
-#}

{#- The runner's parameters (a dict), or none when MINUTES_LIVE_RUN_PARAMS is unset or empty, or while dbt
    parses (parsing renders run_context only for its refs and config, which no parameter changes; reading
    the env var there would make dbt re-parse on every new value). -#}
{% macro _env_run_params() %}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set text = env_var('MINUTES_LIVE_RUN_PARAMS', '') -%}
    {%- if text | trim == '' -%}{{ return(none) }}{%- endif -%}
    {%- set parsed = fromjson(text) -%}
    {%- if parsed is not mapping -%}
        {{ exceptions.raise_compiler_error("MINUTES_LIVE_RUN_PARAMS must be a JSON object of run parameters, got: " ~ text[:200]) }}
    {%- endif -%}
    {%- set known = ['target_date', 'run_as_of_ts', 'history_as_of', 'history_days', 'gold_lead_minutes',
        'roster_fallback_days', 'roster_max_age_hours', 'injuries_max_age_hours', 'odds_max_age_hours',
        'allow_missing_injuries', 'allow_missing_odds', 'min_active_roster', 'build_gold', 'project_sha'] -%}
    {%- for key in parsed -%}
        {%- if key not in known -%}
            {{ exceptions.raise_compiler_error("MINUTES_LIVE_RUN_PARAMS: unknown run parameter " ~ key ~ " (known: " ~ known | join(', ') ~ ")") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set cli_vars = (invocation_args_dict.get('vars') or {}) if invocation_args_dict is defined else {} -%}
    {%- if cli_vars is string -%}{%- set cli_vars = fromyaml(cli_vars) or {} -%}{%- endif -%}
    {%- for key in cli_vars -%}
        {%- if key in known -%}
            {{ exceptions.raise_compiler_error("run parameter " ~ key ~ " given both with --vars and in MINUTES_LIVE_RUN_PARAMS: unset the env var for a plain dbt run") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parsed) }}
{% endmacro %}

{#- The raw value of run parameter `name`: MINUTES_LIVE_RUN_PARAMS when set (a missing key takes the
    project default), else the dbt var. Only run_context (and the on-run-start check) call this. -#}
{% macro run_param(name) %}
    {%- set params = _env_run_params() -%}
    {%- if params is not none and name in params -%}{{ return(params[name]) }}{%- endif -%}
    {{ return(var(name, none)) }}
{% endmacro %}

{% macro _run_var_error(name, value, expected) %}
    {{ exceptions.raise_compiler_error(
        "invalid dbt var " ~ name ~ "=" ~ (value | string).replace('\n', '\\n').replace('\r', '\\r')
        ~ ": expected " ~ expected ~ " (set it with --vars)") }}
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

{#- Values are matched on their exact text: ASCII digits only ([0-9], not \d, which also matches full-width
    digits), anchored with \A and \Z ($ would accept a trailing newline), nothing trimmed. -#}

{#- target_date as 'YYYY-MM-DD' text, or none when unset (gold-only build). -#}
{% macro target_date_value() %}
    {%- set value = run_param('target_date') -%}
    {%- if _is_unset(value) -%}{{ return(none) }}{%- endif -%}
    {%- set text = value | string -%}
    {%- set m = modules.re.match('\\A([0-9]{4})-([0-9]{2})-([0-9]{2})\\Z', text) -%}
    {%- if not m -%}{{ _run_var_error('target_date', value, 'a date YYYY-MM-DD (ASCII digits)') }}{%- endif -%}
    {{- _check_calendar_date('target_date', value, m.group(1) | int, m.group(2) | int, m.group(3) | int) -}}
    {{ return(text) }}
{% endmacro %}

{#- run_as_of_ts normalised to UTC text 'YYYY-MM-DD HH:MM:SS.ffffff+00:00', or none when unset.
    Naive timestamps are refused: an instant without an offset is ambiguous. -#}
{% macro run_as_of_ts_value() %}
    {%- set value = run_param('run_as_of_ts') -%}
    {%- if _is_unset(value) -%}{{ return(none) }}{%- endif -%}
    {%- set text = value | string -%}
    {%- set m = modules.re.match('\\A([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]{1,6}))?)?(Z|z|[+-][0-9]{2}:?[0-9]{2})\\Z', text) -%}
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

{#- Inclusive bounds of the numeric vars. The CLI flags that set them carry the same bounds
    (foundation/cli_values.py FLAG_BOUNDS; a test keeps the two in step). -#}
{% macro _run_var_bounds(name) %}
    {%- set bounds = {
        'history_days': [0, 3650],
        'roster_fallback_days': [0, 365],
        'roster_max_age_hours': [0, 8760],
        'injuries_max_age_hours': [0, 8760],
        'odds_max_age_hours': [0, 8760],
        'gold_lead_minutes': [0, 1440],
        'min_active_roster': [0, 30],
    } -%}
    {{ return(bounds[name]) }}
{% endmacro %}

{#- The var's value as exact decimal text 'I' or 'I.F' (ASCII digits), or an error naming the var.
    Numbers (YAML/JSON) are read through their shortest decimal form; nan, inf, exponents and booleans fail. -#}
{% macro _decimal_text(name, value, expected) %}
    {%- if value is boolean or value is none -%}{{ _run_var_error(name, value, expected) }}{%- endif -%}
    {%- if value is number and value != value -%}{{ _run_var_error(name, value, expected) }}{%- endif -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('\\A[0-9]+(\\.[0-9]+)?\\Z', text) -%}{{ _run_var_error(name, value, expected) }}{%- endif -%}
    {{ return(text) }}
{% endmacro %}

{#- A bounded non-negative integer var (an integral float such as 30.0 counts). -#}
{% macro non_negative_int_var(name) %}
    {%- set value = run_param(name) -%}
    {%- set lo, hi = _run_var_bounds(name) -%}
    {%- set expected = 'an integer in ' ~ lo ~ '..' ~ hi -%}
    {%- set text = _decimal_text(name, value, expected) -%}
    {%- set parts = text.split('.') -%}
    {%- if parts | length == 2 and parts[1] | replace('0', '') != '' -%}{{ _run_var_error(name, value, expected) }}{%- endif -%}
    {%- set n = parts[0] | int -%}
    {%- if n < lo or n > hi -%}{{ _run_var_error(name, value, expected) }}{%- endif -%}
    {{ return(n) }}
{% endmacro %}

{#- A max-age var in hours, returned as exact whole minutes: fractional hours are allowed when they are a
    whole number of minutes (1.5 -> 90, 0.1 -> 6); the arithmetic is on the decimal digits, not floats. -#}
{% macro max_age_minutes_var(name) %}
    {%- set value = run_param(name) -%}
    {%- set lo, hi = _run_var_bounds(name) -%}
    {%- set expected = 'hours in ' ~ lo ~ '..' ~ hi ~ ' that are a whole number of minutes (e.g. 36, 1.5)' -%}
    {%- set text = _decimal_text(name, value, expected) -%}
    {%- set parts = text.split('.') -%}
    {%- set whole = parts[0] | int -%}
    {%- set frac = (parts[1] | int) if parts | length == 2 else 0 -%}
    {%- set scale = 10 ** ((parts[1] | length) if parts | length == 2 else 0) -%}
    {%- if whole > hi or (whole == hi and frac > 0) -%}{{ _run_var_error(name, value, expected) }}{%- endif -%}
    {%- if (frac * 60) % scale != 0 -%}{{ _run_var_error(name, value, expected) }}{%- endif -%}
    {{ return(whole * 60 + (frac * 60) // scale) }}
{% endmacro %}

{#- A boolean var: true/false (YAML) or the strings true/false. -#}
{% macro bool_var(name) %}
    {%- set value = run_param(name) -%}
    {%- if value is boolean -%}{{ return(value) }}{%- endif -%}
    {%- set text = value | string | trim | lower -%}
    {%- if text in ('true', 'false') -%}{{ return(text == 'true') }}{%- endif -%}
    {{ _run_var_error(name, value, 'true or false') }}
{% endmacro %}

{#- SQL literals for models. -#}
{% macro run_as_of_ts_sql() %}
    {%- set v = run_as_of_ts_value() -%}
    {{- return("cast(null as " ~ timestamptz_type() ~ ")" if v is none else "cast('" ~ v ~ "' as " ~ timestamptz_type() ~ ")") -}}
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
    {%- for name in ['history_days', 'gold_lead_minutes', 'roster_fallback_days', 'min_active_roster'] -%}
        {%- do non_negative_int_var(name) -%}
    {%- endfor -%}
    {%- for name in ['roster_max_age_hours', 'injuries_max_age_hours', 'odds_max_age_hours'] -%}
        {%- do max_age_minutes_var(name) -%}
    {%- endfor -%}
    {%- do bool_var('allow_missing_injuries') -%}
    {%- do bool_var('allow_missing_odds') -%}
    {%- do bool_var('build_gold') -%}
    {{ return('select 1 as run_vars_valid') }}
{% endmacro %}

{#- A run parameter as SQL read at run time from the one-row run_context table (models/run/run_context.sql).
    Models use this instead of rendering values, so their compiled SQL does not change between runs. -#}
{% macro run_value(column) -%}
    (select run_context.{{ column }} from {{ ref('run_context') }} as run_context)
{%- endmacro %}
