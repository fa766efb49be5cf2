-- Step 2 of int_features: what the snapshots said at the row's cutoff - the injury report
-- (int_injury_status_asof; a superseded row counts as not on the report, no qualifying row = UNK), the
-- roster and lineup (int_roster_asof) and the betting line (int_odds_asof), each with its snapshot_ts.
{{ config(materialized='ephemeral') }}
with

feature_rows as (

    select * from {{ ref('int_features_rows') }}

),

injuries as (

    select * from {{ ref('int_injury_status_asof') }}

),

rosters as (

    select * from {{ ref('int_roster_asof') }}

),

odds as (

    select * from {{ ref('int_odds_asof') }}

)

select
    feature_rows.*,

    -- injury report as of the cutoff; no qualifying row = UNK (not on a qualifying report)
    coalesce(injuries.status, 'UNK') as reported_status,
    injuries.reason as injury_reason,
    injuries.snapshot_ts as injury_as_of_ts,

    -- roster / lineup as of the cutoff
    rosters.active_flag as roster_active_flag,
    rosters.lineup_role,
    rosters.listed_pos,
    rosters.snapshot_ts as roster_as_of_ts,
    rosters.roster_game_date_source,

    -- odds as of the cutoff
    odds.spread_home,
    odds.total,
    odds.snapshot_ts as odds_as_of_ts

from feature_rows
left join rosters
    on feature_rows.cutoff_kind = rosters.cutoff_kind
    and feature_rows.game_id = rosters.game_id
    and feature_rows.team_id = rosters.team_id
    and feature_rows.player_id = rosters.player_id
left join injuries
    on feature_rows.cutoff_kind = injuries.cutoff_kind
    and feature_rows.game_id = injuries.game_id
    and feature_rows.player_id = injuries.player_id
    and not injuries.is_superseded
left join odds
    on feature_rows.cutoff_kind = odds.cutoff_kind
    and feature_rows.game_id = odds.game_id
