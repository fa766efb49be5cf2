-- The run's parameters as one row (macros/run_vars.sql): every model reads them from here at run time, so
-- the compiled SQL of every other model is the same for every run and dbt's partial parse stays valid.
-- Values come from MINUTES_LIVE_RUN_PARAMS (the Python runner) or the dbt vars (plain `dbt build --vars`),
-- validated when this model compiles; max ages are converted to exact whole minutes.
{%- do validate_run_vars() %}
{%- set history_as_of = run_param('history_as_of') | string | trim | lower %}
{%- if history_as_of not in ('run', 'all') %}
    {{ exceptions.raise_compiler_error("invalid run parameter history_as_of=" ~ history_as_of ~ ": expected run or all") }}
{%- endif %}
{%- set project_sha = run_param('project_sha') if _env_run_params() is not none else none %}
{%- if project_sha is not none and not modules.re.match('\\A[0-9a-f]{64}\\Z', project_sha | string) %}
    {{ exceptions.raise_compiler_error("invalid run parameter project_sha: expected 64 lowercase hex digits") }}
{%- endif %}
select
    {{ target_date_sql() }} as target_date,
    {{ run_as_of_ts_sql() }} as run_as_of_ts,
    -- box scores and schedule states that history is computed from: those known at run_as_of_ts ('run'),
    -- or every stored one ('all': the runner's choice when nothing stored after run_as_of_ts changes a game
    -- published before it; minutes_live/pipeline/history.py)
    {% if history_as_of == 'all' -%}
    cast(null as {{ timestamptz_type() }})
    {%- else -%}
    {{ run_as_of_ts_sql() }}
    {%- endif %} as history_cap_ts,
    '{{ history_as_of }}' as history_as_of,
    cast({{ non_negative_int_var('history_days') }} as integer) as history_days,
    cast({{ non_negative_int_var('gold_lead_minutes') }} as integer) as gold_lead_minutes,
    cast({{ non_negative_int_var('roster_fallback_days') }} as integer) as roster_fallback_days,
    cast({{ max_age_minutes_var('roster_max_age_hours') }} as integer) as roster_max_age_minutes,
    cast({{ max_age_minutes_var('injuries_max_age_hours') }} as integer) as injuries_max_age_minutes,
    cast({{ max_age_minutes_var('odds_max_age_hours') }} as integer) as odds_max_age_minutes,
    {{ 'true' if bool_var('allow_missing_injuries') else 'false' }} as allow_missing_injuries,
    {{ 'true' if bool_var('allow_missing_odds') else 'false' }} as allow_missing_odds,
    cast({{ non_negative_int_var('min_active_roster') }} as integer) as min_active_roster,
    {{ 'true' if bool_var('build_gold') else 'false' }} as build_gold,
    {{ "'" ~ project_sha ~ "'" if project_sha is not none else 'cast(null as ' ~ string_type() ~ ')' }} as project_sha
