-- The rows features are built for, one per (cutoff_kind, game, player, team):
--   gold: every box-score row of every gold game (played, DNP and inactive rows), minutes = actual;
--   live: the as-of roster of every target_date game (with fallback), minutes = NULL.
with

cutoffs as (

    select * from {{ ref('int_game_cutoffs') }}

),

box_scores as (

    select * from {{ ref('int_box_scores_deduped') }}

),

rosters as (

    select * from {{ ref('int_roster_asof') }}
    where cutoff_kind = 'live'

),

gold_rows as (

    select
        cutoffs.cutoff_kind,
        box_scores.game_id,
        box_scores.player_id,
        box_scores.team_id,
        box_scores.player_name,
        box_scores.minutes,
        'box_score' as label_source
    from box_scores
    inner join cutoffs
        on box_scores.game_id = cutoffs.game_id
        and cutoffs.cutoff_kind = 'gold'

),

live_rows as (

    select
        rosters.cutoff_kind,
        rosters.game_id,
        rosters.player_id,
        rosters.team_id,
        rosters.player_name,
        cast(null as double) as minutes,
        'roster_stub' as label_source
    from rosters

),

unioned as (

    select * from gold_rows
    union all
    select * from live_rows

)

select
    unioned.cutoff_kind,
    unioned.game_id,
    unioned.player_id,
    unioned.team_id,
    unioned.player_name,
    unioned.minutes,
    unioned.label_source,
    cutoffs.cutoff_ts,
    cutoffs.tip_ts,
    cutoffs.game_date,
    cutoffs.season,
    cutoffs.home_team_id,
    cutoffs.away_team_id
from unioned
inner join cutoffs
    on unioned.cutoff_kind = cutoffs.cutoff_kind
    and unioned.game_id = cutoffs.game_id
