{#- The audit columns every raw snapshot table carries (snapshots_ingest/raw_store.py AUDIT_COLUMNS),
    cast once for the staging models. `source` becomes source_name so it cannot be mistaken for dbt source(). -#}
{% macro raw_audit_columns() -%}
cast(snapshot_ts as {{ timestamptz_type() }}) as snapshot_ts,
        cast(ingested_at as {{ timestamptz_type() }}) as ingested_at,
        run_id,
        source as source_name,
        content_hash
{%- endmacro %}
