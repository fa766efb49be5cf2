{#-
  The Spark target's two ends (minutes_live/pipeline/spark_engine.py, docs/scale_out.md):
    - register_raw_sources (on-run-start): the raw store's tables, exported by the runner as parquet under
      MINUTES_LIVE_SPARK_RAW_URI (default $MINUTES_LIVE_SPARK_DIR/raw), become the tables of database `raw`
      that the dbt sources name. Unmanaged tables: dropping one never deletes the export.
    - export_mart (post-hook of the marts): the built mart is written as parquet under
      MINUTES_LIVE_SPARK_EXPORT_URI (default $MINUTES_LIVE_SPARK_DIR/export)/<mart>, which the scorer reads.
  Both are no-ops on DuckDB, where the raw tables are in the store and the runner reads the marts directly.
-#}

{% macro spark_raw_uri() -%}
    {{- env_var('MINUTES_LIVE_SPARK_RAW_URI', env_var('MINUTES_LIVE_SPARK_DIR', 'data/live/spark') ~ '/raw') -}}
{%- endmacro %}

{% macro spark_export_uri() -%}
    {{- env_var('MINUTES_LIVE_SPARK_EXPORT_URI', env_var('MINUTES_LIVE_SPARK_DIR', 'data/live/spark') ~ '/export') -}}
{%- endmacro %}

{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources', 'minutes_live')()) }}
{% endmacro %}

{% macro default__register_raw_sources() %}{% endmacro %}

{#- MINUTES_LIVE_SPARK_RAW_REGISTER (set by the runner, minutes_live/pipeline/spark_engine.py raw_registration):
    JSON {table: export tag} of the tables to (re-)register, each tagged with its export (a table property);
    the others are registered on the cluster already, at this location, for this export. Unset: all, untagged. -#}
{% macro spark__register_raw_sources() %}
    {%- if execute -%}
        {%- set root = spark_raw_uri() -%}
        {%- set given = env_var('MINUTES_LIVE_SPARK_RAW_REGISTER', '') -%}
        {%- set only = fromjson(given) if given else none -%}
        {%- set names = [] -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' and (only is none or node.name in only) -%}
            {%- do names.append(node.name) -%}
        {%- endfor -%}
        {%- if names -%}
            {%- do run_query('create database if not exists raw') -%}
        {%- endif -%}
        {%- for name in names -%}
            {%- do run_query('drop table if exists raw.' ~ name) -%}
            {%- do run_query("create table raw." ~ name ~ " using parquet location '" ~ root ~ "/" ~ name ~ "'"
                             ~ (" tblproperties ('minutes_live.export_tag' = '" ~ only[name] ~ "')" if only is not none else "")) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{% macro export_mart() %}
    {{ return(adapter.dispatch('export_mart', 'minutes_live')()) }}
{% endmacro %}

{% macro default__export_mart() %}{% endmacro %}

{% macro spark__export_mart() -%}
    insert overwrite directory '{{ spark_export_uri() }}/{{ this.identifier }}' using parquet
    select * from {{ this }}
{%- endmacro %}

{#- Contracts on Spark. The marts' contract declares DuckDB's type names (varchar, timestamp with time zone),
    which Spark does not spell; dbt checks a contract by casting NULL to each declared type and comparing the
    engine's types of both queries. This maps the two names to Spark's (string; timestamp, an instant in the
    UTC session zone) and leaves the check itself as it is: the same names, order and types are enforced. -#}
{% macro spark_contract_type(data_type) -%}
    {%- set t = data_type | trim | lower -%}
    {{- return({'varchar': 'string', 'text': 'string', 'timestamp with time zone': 'timestamp',
                'timestamptz': 'timestamp', 'integer': 'int'}.get(t, t)) -}}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) %}
    {%- set mapped = {} -%}
    {%- for name in columns -%}
        {%- set col = columns[name] -%}
        {%- do mapped.update({name: {'name': col['name'], 'quote': col.get('quote'),
                                     'data_type': spark_contract_type(col['data_type']) if col['data_type'] is defined and col['data_type'] else col.get('data_type')}}) -%}
    {%- endfor -%}
    {{ return(default__get_empty_schema_sql(mapped)) }}
{% endmacro %}
