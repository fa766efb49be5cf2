-- Betting line per (cutoff_kind, game) at the game's cutoff (macro asof_select), any book.
-- spread_home is re-expressed for the schedule's home team when the odds source has the teams swapped.
with

odds as (

    select * from {{ ref('stg_raw__odds') }}

),

cutoffs as (

    select * from {{ ref('int_game_cutoffs') }}

),

selected as (

    {{ asof_select('odds', 'cutoffs', ['game_id'], 'odds_max_age_minutes') }}

),

games as (

    select game_id, home_team_id from {{ ref('int_games') }}

)

select
    selected.cutoff_kind,
    selected.game_id,
    selected.book,
    case
        when selected.home_team_id = games.home_team_id then selected.spread_home
        else -selected.spread_home
    end as spread_home,
    selected.total,
    selected.snapshot_ts,
    selected.ingested_at,
    selected.content_hash,
    selected.cutoff_ts,
    selected.tip_ts,
    selected.max_age_hours
from selected
inner join games on selected.game_id = games.game_id
