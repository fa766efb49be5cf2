{#-
  `dbt source freshness` on replayed data: the thresholds (warn_after / error_after in
  models/staging/raw/_raw__sources.yml) are read relative to var run_as_of_ts when it is set, the way the
  live build reads the max ages, and against now when it is not (live data):

      dbt source freshness --profiles-dir profiles --vars '{run_as_of_ts: "2022-01-15T23:00:00Z"}'

  dbt computes age = snapshotted_at - max_loaded_at from one query per raw table:
    - raw_snapshot_loaded_at (every raw table's loaded_at_query): the newest snapshot_ts known at
      run_as_of_ts (rows stored for a later instant, e.g. by a later backfill into the same store, are ignored);
    - default__collect_freshness_custom_sql overrides dbt's global macro of the same name (a root-project
      macro wins the dispatch) only to report snapshotted_at = run_as_of_ts instead of the database's now.
  So sources.json carries the real newest snapshot_ts and the run's instant, and the age between them.
-#}
{% macro raw_snapshot_loaded_at() %}
    {%- set as_of = run_as_of_ts_value() -%}
    select max(snapshot_ts) from {{ this }}
    {%- if as_of is not none %} where snapshot_ts <= {{ run_as_of_ts_sql() }}{% endif -%}
{% endmacro %}

{% macro default__collect_freshness_custom_sql(source, loaded_at_query) %}
  {% call statement('collect_freshness_custom_sql', fetch_result=True, auto_begin=False) -%}
  with source_query as (
    {{ loaded_at_query }}
  )
  select
    (select * from source_query) as max_loaded_at,
    {% if run_as_of_ts_value() is none -%}
    {{ current_timestamp() }}
    {%- else -%}
    {{ run_as_of_ts_sql() }}
    {%- endif %} as snapshotted_at
  {% endcall %}
  {{ return(load_result('collect_freshness_custom_sql')) }}
{% endmacro %}
