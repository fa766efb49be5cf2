{#- Anti-leak invariant of the as-of rule: no selected snapshot is newer than its game's cutoff,
    and none is older than its kind's maximum age at that cutoff. -#}
{% test no_snapshot_after_cutoff(model, column_name, cutoff_column='cutoff_ts', max_age_hours_var=none) %}
select *
from {{ model }}
where {{ column_name }} > {{ cutoff_column }}
{%- if max_age_hours_var is not none %}
    or {{ column_name }} < {{ ts_minus(cutoff_column, max_age_minutes_var(max_age_hours_var), 'minute') }}
{%- endif %}
{% endtest %}
