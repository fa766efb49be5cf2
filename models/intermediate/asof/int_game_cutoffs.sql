-- One row per (game, cutoff_kind): the instant after which nothing may feed that game's features.
--   gold: every game with a box score (not preseason), cutoff = tip_ts - gold_lead_minutes (unless build_gold=false)
--   live: every non-postponed game on target_date,   cutoff = least(run_as_of_ts, tip_ts)
-- Everything downstream joins to this table, so gold and live share one code path.
with

games as (

    select * from {{ ref('int_games') }}

),

games_with_box_scores as (

    select distinct game_id from {{ ref('int_box_scores_deduped') }}

),

gold as (

    select
        'gold' as cutoff_kind,
        games.game_id,
        games.tip_ts,
        {{ ts_minus('games.tip_ts', run_value('gold_lead_minutes'), 'minute') }} as cutoff_ts
    from games
    inner join games_with_box_scores on games.game_id = games_with_box_scores.game_id
    where games.game_type <> 'preseason'
        and {{ run_value('build_gold') }}

),

live as (

    select
        'live' as cutoff_kind,
        games.game_id,
        games.tip_ts,
        case
            when {{ run_value('run_as_of_ts') }} < games.tip_ts then {{ run_value('run_as_of_ts') }}
            else games.tip_ts
        end as cutoff_ts
    from games
    where games.game_date = {{ run_value('target_date') }}
        and games.game_status <> 'postponed'

),

unioned as (

    select * from gold
    union all
    select * from live

)

select
    unioned.cutoff_kind,
    unioned.game_id,
    unioned.tip_ts,
    unioned.cutoff_ts,
    games.game_date,
    games.season,
    games.home_team_id,
    games.away_team_id
from unioned
inner join games on unioned.game_id = games.game_id
