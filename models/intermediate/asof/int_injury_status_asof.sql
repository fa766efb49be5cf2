-- Injury-report state per (cutoff_kind, game, player) at the game's cutoff (macro asof_select).
-- Report rows: macro injury_report_rows (player rows only; game_id resolved by (game_date, team_id) when missing).
-- is_superseded: the team has a newer qualifying report on which the player no longer appears; the
-- newest report is the team's state, so int_features treats such a player as not on the report.
with

keyed as (

    {{ injury_report_rows() }}

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
    {{ injury_is_superseded() }} as is_superseded
from selected
