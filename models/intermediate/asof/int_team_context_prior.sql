-- Team context per (cutoff_kind, game, team) from the team's games available before the cutoff:
-- season-to-date pace and ratings, the minutes dispersion of the team's previous game and that game's id.
-- Same pointer technique as int_player_history_pointers (macro teams_with_prior_seq, macros/prior_seq.sql):
-- prior_seq = running max of the history seq over the time-ordered union of the targets' teams' history rows
-- (int_team_history) and the cutoffs.
with

cutoff_teams as (

    select cutoff_kind, game_id, season, cutoff_ts, home_team_id as team_id from {{ ref('int_game_cutoffs') }}
    union all
    select cutoff_kind, game_id, season, cutoff_ts, away_team_id as team_id from {{ ref('int_game_cutoffs') }}

),

history as (

    select * from {{ ref('int_team_history') }}
    where team_id in (select cutoff_teams.team_id from cutoff_teams)

),

targets as (

    {{ teams_with_prior_seq('cutoff_teams', 'history') }}

)

select
    targets.cutoff_kind,
    targets.game_id,
    targets.team_id,
    case when history.season = targets.season then history.season_possessions / history.season_games end
        as team_pace_szn,
    case when history.season = targets.season and history.season_possessions > 0
        then 100.0e0 * history.season_points / history.season_possessions end as team_off_rtg_szn,
    case when history.season = targets.season and history.season_opponent_possessions > 0
        then 100.0e0 * history.season_points_allowed / history.season_opponent_possessions end as team_def_rtg_szn,
    history.minutes_dispersion as team_minutes_dispersion_prior,
    -- the team's previous game: its latest game whose box score is known at the cutoff (null = none)
    history.game_id as prior_team_game_id
from targets
left join history
    on targets.team_id = history.team_id
    and targets.prior_seq = history.seq
