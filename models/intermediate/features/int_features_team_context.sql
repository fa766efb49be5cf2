-- Step 4 of int_features: the row's team and its opponent at the cutoff - season-to-date pace and ratings
-- and the previous game's minutes dispersion (int_team_context_prior), conference standings, seed lines,
-- flags and rest rate (int_team_standings_asof).
{{ config(materialized='ephemeral') }}
with

feature_rows as (

    select * from {{ ref('int_features_player_form') }}

),

team_context as (

    select * from {{ ref('int_team_context_prior') }}

),

standings as (

    select * from {{ ref('int_team_standings_asof') }}

)

select
    feature_rows.*,

    own_team.team_pace_szn,
    own_team.team_off_rtg_szn,
    own_team.team_def_rtg_szn,
    own_team.team_minutes_dispersion_prior,
    opponent_team.team_pace_szn as opp_pace_szn,
    opponent_team.team_def_rtg_szn as opp_def_rtg_szn,

    -- conference standings and rest pattern at the cutoff (int_team_standings_asof)
    own_standings.team_win_pct,
    own_standings.games_behind_6th,
    own_standings.games_behind_10th,
    own_standings.games_left,
    own_standings.clinched_playoff,
    own_standings.eliminated,
    own_standings.seed_locked,
    own_standings.team_rest_rate_10g,
    opponent_standings.team_win_pct as opp_win_pct

from feature_rows
left join team_context as own_team
    on feature_rows.cutoff_kind = own_team.cutoff_kind
    and feature_rows.game_id = own_team.game_id
    and feature_rows.team_id = own_team.team_id
left join team_context as opponent_team
    on feature_rows.cutoff_kind = opponent_team.cutoff_kind
    and feature_rows.game_id = opponent_team.game_id
    and feature_rows.opponent_team_id = opponent_team.team_id
left join standings as own_standings
    on feature_rows.cutoff_kind = own_standings.cutoff_kind
    and feature_rows.game_id = own_standings.game_id
    and feature_rows.team_id = own_standings.team_id
left join standings as opponent_standings
    on feature_rows.cutoff_kind = opponent_standings.cutoff_kind
    and feature_rows.game_id = opponent_standings.game_id
    and feature_rows.opponent_team_id = opponent_standings.team_id
