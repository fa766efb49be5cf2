-- Step 5 of int_features: every row in each world of its team-game - scenario_id -1 (the injury report as
-- reported) for every row, and 0 .. 2^K - 1 for the rows of a live team-game with game-time-decision
-- players (int_status_worlds) - with its status in that world: the reported one, or the GTD override
-- (int_status_overrides); plus the injury-listing context status_role / status_state are made of
-- (int_status_listing_context).
{{ config(materialized='ephemeral') }}
with

feature_rows as (

    select * from {{ ref('int_features_team_context') }}

),

worlds as (

    select * from {{ ref('int_status_worlds') }}

),

overrides as (

    select * from {{ ref('int_status_overrides') }}

),

listing as (

    select * from {{ ref('int_status_listing_context') }}

)

select
    feature_rows.*,
    coalesce(worlds.scenario_id, cast(-1 as bigint)) as scenario_id,
    worlds.scenario_gtd_player_ids,
    worlds.scenario_out_player_ids,
    coalesce(overrides.scenario_status, feature_rows.reported_status) as status,
    listing.status_role,
    listing.prior_game_listed,
    listing.prior_game_played
from feature_rows
left join worlds
    on feature_rows.cutoff_kind = worlds.cutoff_kind
    and feature_rows.game_id = worlds.game_id
    and feature_rows.team_id = worlds.team_id
left join overrides
    on worlds.cutoff_kind = overrides.cutoff_kind
    and worlds.game_id = overrides.game_id
    and worlds.team_id = overrides.team_id
    and worlds.scenario_id = overrides.scenario_id
    and feature_rows.player_id = overrides.player_id
left join listing
    on feature_rows.cutoff_kind = listing.cutoff_kind
    and feature_rows.game_id = listing.game_id
    and feature_rows.player_id = listing.player_id
    and feature_rows.team_id = listing.team_id
