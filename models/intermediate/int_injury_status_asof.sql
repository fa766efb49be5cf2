-- Injury-report state per (cutoff_kind, game, player) at the game's cutoff (macro asof_select).
-- Rows without a player (NOT YET SUBMITTED team rows, unmatched names) cannot feed a player.
-- Rows without game_id are resolved through the schedule by (game_date, team_id).
-- is_superseded: the team has a newer qualifying report on which the player no longer appears; the
-- newest report is the team's state, so int_features treats such a player as not on the report.
with

injuries as (

    select * from {{ ref('stg_raw__injuries') }}
    where player_id is not null and is_player_status

),

game_teams as (

    select game_id, game_date, home_team_id as team_id from {{ ref('int_games') }}
    union all
    select game_id, game_date, away_team_id as team_id from {{ ref('int_games') }}

),

keyed as (

    select
        coalesce(injuries.game_id, game_teams.game_id) as game_id,
        injuries.player_id,
        injuries.team_id,
        injuries.player_name,
        injuries.status_raw,
        injuries.status,
        injuries.reason,
        injuries.snapshot_ts,
        injuries.ingested_at,
        injuries.content_hash
    from injuries
    left join game_teams
        on injuries.game_id is null
        and injuries.team_id = game_teams.team_id
        and injuries.game_date = game_teams.game_date

),

cutoffs as (

    select * from {{ ref('int_game_cutoffs') }}

),

selected as (

    {{ asof_select('keyed', 'cutoffs', ['game_id', 'player_id'], 'injuries_max_age_minutes') }}

)

select
    cutoff_kind,
    game_id,
    player_id,
    team_id,
    player_name,
    status_raw,
    status,
    reason,
    snapshot_ts,
    ingested_at,
    content_hash,
    cutoff_ts,
    tip_ts,
    max_age_hours,
    snapshot_ts < max(snapshot_ts) over (partition by cutoff_kind, game_id, team_id) as is_superseded
from selected
