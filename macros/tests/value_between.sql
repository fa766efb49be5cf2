{#- Every non-null value lies in [min_value, max_value] (either bound optional). -#}
{% test value_between(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }}
from {{ model }}
where {{ value_between_violation(column_name, min_value, max_value) }}
{% endtest %}

{#- The row condition of value_between (also a rule of column_rules): a non-null value outside the bounds. -#}
{% macro value_between_violation(column_name, min_value=none, max_value=none) -%}
{{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
    )
{%- endmacro %}
