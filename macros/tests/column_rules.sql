{#- Every column rule of a model, and its row key, checked in one query: one test node where the same
    rules written as one data test per column would be a node each (each node is a query, a compile and
    dbt's bookkeeping: a live refresh ran 52 data tests, most of them one column of the live mart each).

    columns: {column: [rule, ...]}, a rule written as the column's data test would be:
        not_null
        {value_between: {min_value: 0, max_value: 1}}           (either bound optional; nulls pass)
        {accepted_values: {values: [A, B]}}                      (nulls pass, as dbt's accepted_values)
        {no_snapshot_after_cutoff: {max_age_column: ..., cutoff_column: ...}}   (the anti-leak rule)
    row_key: optional column list no two rows may share (unique_combination).
    Each rule's condition is the macro its own generic test uses (macros/tests/value_between.sql,
    no_snapshot_after_cutoff.sql), so a rule here and the same test on a column check the same rows.
    Failing rows: one per violated rule - column_name, rule (its name and arguments), failing_rows (rows
    that break it; for the row key, the key values held by more than one row). The runner puts them in the
    failure's message (minutes_live/pipeline/dbt_runner.py describe_rule_failures): model, column, rule. -#}
{% test column_rules(model, columns, row_key=none) %}
{%- set checks = [] %}
{%- for column, rules in columns.items() %}
{%- for rule in rules %}
{%- set name = rule if rule is string else (rule.keys() | list)[0] %}
{%- set args = {} if rule is string else (rule[name] or {}) %}
{%- if name == 'not_null' %}
{%- set condition = column ~ ' is null' %}
{%- elif name == 'value_between' %}
{%- set condition = value_between_violation(column, args.get('min_value'), args.get('max_value')) %}
{%- elif name == 'accepted_values' %}
{%- set condition = column ~ " is not null and " ~ column ~ " not in ('" ~ (args['values'] | join("', '")) ~ "')" %}
{%- elif name == 'no_snapshot_after_cutoff' %}
{%- set condition = snapshot_after_cutoff_violation(column, args.get('cutoff_column', 'cutoff_ts'), args.get('max_age_column')) %}
{%- else %}
{{ exceptions.raise_compiler_error("column_rules on " ~ model ~ ": unknown rule " ~ name ~ " on column " ~ column) }}
{%- endif %}
{%- set described = name if not args else name ~ '(' ~ (args | dictsort | map('join', '=') | join(', ')) ~ ')' %}
{%- do checks.append({'column': column, 'rule': described | replace("'", ""), 'condition': condition}) %}
{%- endfor %}
{%- endfor %}
with flagged as (
    select
        {%- for check in checks %}
        case when {{ check.condition }} then 1 else 0 end as rule_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
),
counted as (
    select
        {%- for check in checks %}
        count(case when rule_{{ loop.index }} = 1 then 1 end) as rule_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from flagged
),
{%- if row_key %}
duplicated as (
    select count(*) as row_key_duplicates from (
        select {{ row_key | join(', ') }} from {{ model }} group by {{ row_key | join(', ') }} having count(*) > 1
    ) as duplicate_keys
),
{%- endif %}
violations as (
    {%- for check in checks %}
    select '{{ check.column }}' as column_name, '{{ check.rule }}' as rule, rule_{{ loop.index }} as failing_rows from counted
    {%- if not loop.last or row_key %} union all{% endif %}
    {%- endfor %}
    {%- if row_key %}
    select '{{ row_key | join(", ") }}' as column_name, 'unique_combination' as rule, row_key_duplicates as failing_rows
    from duplicated
    {%- endif %}
)
select column_name, rule, failing_rows from violations where failing_rows > 0
{% endtest %}
