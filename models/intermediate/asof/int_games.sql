-- One row per game: the newest schedule state known at run_as_of_ts (all states when unset).
-- Games without a tip time cannot be cut off and are dropped here.
with

schedules as (

    select * from {{ ref('stg_raw__schedules') }}
    where snapshot_ts <= coalesce({{ run_value('run_as_of_ts') }}, snapshot_ts)

),

latest_state as (

    {{ latest_row('schedules', ['game_id'], 'snapshot_ts desc, ingested_at desc, content_hash asc') }}

),

teams as (

    select * from {{ ref('teams') }}

),

season_starts as (

    select season, min(game_date) as season_start_date
    from latest_state
    where game_type <> 'preseason'
    group by season

)

select
    latest_state.game_id,
    latest_state.season,
    latest_state.game_date,
    latest_state.tip_ts,
    latest_state.game_type,
    latest_state.game_status,
    latest_state.home_team_id,
    latest_state.away_team_id,
    latest_state.home_tricode,
    latest_state.away_tricode,
    coalesce(latest_state.home_team_name, home_teams.team_name) as home_team_name,
    coalesce(latest_state.away_team_name, away_teams.team_name) as away_team_name,
    season_starts.season_start_date,
    latest_state.snapshot_ts as schedule_snapshot_ts

from latest_state
left join teams as home_teams on latest_state.home_team_id = home_teams.team_id
left join teams as away_teams on latest_state.away_team_id = away_teams.team_id
left join season_starts on latest_state.season = season_starts.season
where latest_state.tip_ts is not null
