{#- The model holds exactly one row (run_context: one set of parameters per invocation; int_history_state).
    Under `dbt build --empty` every ref reads zero rows, so the check is then "at most one". -#}
{% test exactly_one_row(model) %}
select row_count from (select count(*) as row_count from {{ model }}) as counted
where row_count > 1 {% if not flags.EMPTY %}or row_count = 0{% endif %}
{% endtest %}
