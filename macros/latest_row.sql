{#-
  Keep one row per partition: the first by `order_by`. Used for exact-duplicate removal in staging
  (partition by content_hash) and "last copy wins" deduplication. QUALIFY where the engine has it.
-#}
{% macro latest_row(relation, partition_by, order_by) %}
    {{ return(adapter.dispatch('latest_row', 'minutes_live')(relation, partition_by, order_by)) }}
{% endmacro %}

{% macro default__latest_row(relation, partition_by, order_by) -%}
select * from (
    select
        ranked_source.*,
        row_number() over (partition by {{ partition_by | join(', ') }} order by {{ order_by }}) as dedupe_rank
    from {{ relation }} as ranked_source
) as ranked
where dedupe_rank = 1
{%- endmacro %}

{% macro duckdb__latest_row(relation, partition_by, order_by) -%}
select * from {{ relation }}
qualify row_number() over (partition by {{ partition_by | join(', ') }} order by {{ order_by }}) = 1
{%- endmacro %}
