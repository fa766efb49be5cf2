{#-
  The `table` materialization on DuckDB (the embedded target), in place of dbt-duckdb's own: in one transaction,
  drop the model's previous relation and create it again (with its contract, through create_table_as, as
  dbt-duckdb does). The store has one writer at a time (foundation/store.py) and DuckDB's DDL is
  transactional, so a reader never sees the table missing; what this skips is dbt-duckdb's staging dance
  (a __dbt_tmp table, two renames, an index query, a backup to drop after the commit), which costs about
  four macro calls per model. A watcher refresh builds 17 tables: this is a measured part of its time
  (docs/operations.md, "The game-day watcher"). Spark (dbt-spark) keeps its own materialization.
  Not supported here (dbt-duckdb's materialization has them; this project uses none of them, and a model
  that asks fails loudly): python models, foreign-key constraints, partitioned/sorted DuckLake tables.
-#}
{% materialization table, adapter="duckdb", supported_languages=['sql'] %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- if model.get('constraints') or config.get('partitioned_by') or config.get('sorted_by') -%}
    {{ exceptions.raise_compiler_error("model " ~ model.name ~ ": the project's table materialization "
       ~ "(macros/materializations/table_duckdb.sql) builds no constraints, partitioned_by or sorted_by") }}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {#- the drop opens the transaction (auto_begin): adapter.drop_relation would run it in autocommit, before the
      create's BEGIN, and a failed create would then leave no table at all -#}
  {% if existing_relation is not none %}
    {% call statement('drop_previous') -%}
      drop {{ existing_relation.type }} if exists {{ existing_relation }}
    {%- endcall %}
  {% endif %}
  {% call statement('main') -%}
    {{- create_table_as(False, target_relation, compiled_code) }}
  {%- endcall %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
