{#- Anti-leak invariant of the as-of rule: no selected snapshot is newer than its game's cutoff,
    and none is older than its kind's maximum age at that cutoff (max_age_column: the run_context column
    holding it in minutes, e.g. injuries_max_age_minutes). -#}
{% test no_snapshot_after_cutoff(model, column_name, cutoff_column='cutoff_ts', max_age_column=none) %}
select *
from {{ model }}
where {{ snapshot_after_cutoff_violation(column_name, cutoff_column, max_age_column) }}
{% endtest %}

{#- The row condition of no_snapshot_after_cutoff (also a rule of column_rules). -#}
{% macro snapshot_after_cutoff_violation(column_name, cutoff_column='cutoff_ts', max_age_column=none) -%}
({{ column_name }} > {{ cutoff_column }}
{%- if max_age_column is not none %}
    or {{ column_name }} < {{ ts_minus(cutoff_column, run_value(max_age_column), 'minute') }}
{%- endif %})
{%- endmacro %}
