-- Parity: after a gold build (run_as_of_ts unset) and a live-only build of a past target_date
-- (--select +features_minutes_v1_live --vars '{target_date: D, run_as_of_ts: T, build_gold: false}'),
-- count per column how many matched rows differ between the marts. History-derived columns must be 0;
-- docs/features.md lists the columns expected to differ.
{%- set columns = adapter.get_columns_in_relation(ref('features_minutes_v1')) if execute else [] %}
with

matched as (

    select gold.game_id
    {%- for column in columns if column.name not in ('game_id', 'player_id', 'team_id') %}
        , case when gold."{{ column.name }}" is distinct from live."{{ column.name }}" then 1 else 0 end
            as "{{ column.name }}"
    {%- endfor %}
    from {{ ref('features_minutes_v1') }} as gold
    inner join {{ ref('features_minutes_v1_live') }} as live
        on gold.game_id = live.game_id and gold.player_id = live.player_id and gold.team_id = live.team_id

)

select count(*) as matched_rows
{%- for column in columns if column.name not in ('game_id', 'player_id', 'team_id') %}
    , sum("{{ column.name }}") as "{{ column.name }}"
{%- endfor %}
from matched
