-- Roster state per (cutoff_kind, game, team, player) at the game's cutoff (macro asof_select).
-- Candidates: the team's roster rows for the game's date, or - when roster_fallback_days > 0 - for one of
-- the previous roster_fallback_days dates. The newest roster date with any qualifying row wins per
-- (cutoff_kind, game, team); roster_game_date_source says which ('target_date' or 'fallback:<date>').
with

rosters as (

    select * from {{ ref('stg_raw__rosters') }}

),

-- only the games being cut off (a live run: the slate), each expanded into the roster dates it may use
-- (its date and the roster_fallback_days before it), so rosters are read by an equi-join on (team, date)
cutoff_games as (

    select games.game_id, games.game_date, games.home_team_id, games.away_team_id
    from {{ ref('int_games') }} as games
    where games.game_id in (select cutoffs.game_id from {{ ref('int_game_cutoffs') }} as cutoffs)

),

game_teams as (

    select game_id, game_date, home_team_id as team_id from cutoff_games
    union all
    select game_id, game_date, away_team_id as team_id from cutoff_games

),

offsets as (

    {{ day_offsets(ref('run_context'), 'roster_fallback_days') }}

),

candidates as (

    select
        game_teams.game_id,
        rosters.team_id,
        rosters.player_id,
        rosters.game_date as roster_game_date,
        game_teams.game_date,
        rosters.team_tricode,
        rosters.player_name,
        rosters.active_flag,
        rosters.lineup_role,
        rosters.listed_pos,
        rosters.snapshot_ts,
        rosters.ingested_at,
        rosters.content_hash
    from game_teams
    cross join offsets
    inner join rosters
        on rosters.team_id = game_teams.team_id
        and rosters.game_date = game_teams.game_date - offsets.day_offset

),

cutoffs as (

    select * from {{ ref('int_game_cutoffs') }}

),

selected as (

    {{ asof_select('candidates', 'cutoffs', ['game_id', 'team_id', 'roster_game_date', 'player_id'], 'roster_max_age_minutes') }}

),

chosen_dates as (

    select cutoff_kind, game_id, team_id, max(roster_game_date) as roster_game_date
    from selected
    group by cutoff_kind, game_id, team_id

)

select
    selected.cutoff_kind,
    selected.game_id,
    selected.team_id,
    selected.player_id,
    selected.player_name,
    selected.team_tricode,
    selected.active_flag,
    selected.lineup_role,
    selected.listed_pos,
    selected.roster_game_date,
    case
        when selected.roster_game_date = selected.game_date then 'target_date'
        else 'fallback:' || cast(selected.roster_game_date as {{ string_type() }})
    end as roster_game_date_source,
    selected.snapshot_ts,
    selected.ingested_at,
    selected.content_hash,
    selected.cutoff_ts,
    selected.tip_ts,
    selected.max_age_hours
from selected
inner join chosen_dates
    on selected.cutoff_kind = chosen_dates.cutoff_kind
    and selected.game_id = chosen_dates.game_id
    and selected.team_id = chosen_dates.team_id
    and selected.roster_game_date = chosen_dates.roster_game_date
