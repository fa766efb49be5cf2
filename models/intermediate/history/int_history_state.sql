-- History (tag history), built after every other history model: what the history tables were computed
-- from. minutes_live/pipeline/history.py compares it with the raw store before a run and rebuilds history only when
-- it differs (new or corrected box scores, a changed schedule state of a played game, another cap, another
-- project version). Raw tables are append-only, so row counts and the newest ingested_at identify their
-- content. The runner drops this table before a build that rebuilds history: a failed build leaves none.
-- depends_on: {{ ref('int_player_history') }}
-- depends_on: {{ ref('int_team_history') }}
-- depends_on: {{ ref('int_team_standings_history') }}
with

run_context as (

    select * from {{ ref('run_context') }}

),

box_scores as (

    select game_id, ingested_at from {{ source('raw', 'box_scores') }}
    where snapshot_ts <= coalesce((select history_cap_ts from run_context), snapshot_ts)

),

played_schedules as (

    select ingested_at from {{ source('raw', 'schedule') }}
    where snapshot_ts <= coalesce((select history_cap_ts from run_context), snapshot_ts)
        and game_id in (select box_scores.game_id from box_scores)

)

select
    (select history_cap_ts from run_context) as history_cap_ts,
    (select project_sha from run_context) as project_sha,
    (select count(*) from box_scores) as box_score_rows,
    (select max(ingested_at) from box_scores) as box_scores_max_ingested_at,
    (select count(*) from played_schedules) as played_schedule_rows,
    (select max(ingested_at) from played_schedules) as played_schedules_max_ingested_at,
    {{ current_timestamp() }} as built_at
