-- Step 1 of int_features: the rows features are built for (int_label_targets, one per cutoff_kind, game,
-- player, team) with their game (int_games): date, season, tip, the two teams, and the row's own team and
-- opponent (ids, names, tricodes, home_flag).
{{ config(materialized='ephemeral') }}
with

targets as (

    select * from {{ ref('int_label_targets') }}

),

games as (

    select * from {{ ref('int_games') }}

)

select
    targets.cutoff_kind,
    targets.game_id,
    targets.player_id,
    targets.team_id,
    targets.player_name,
    targets.minutes,
    targets.label_source,
    targets.cutoff_ts,
    games.season,
    games.game_date,
    games.game_type,
    games.tip_ts,
    games.season_start_date,
    games.home_team_id,
    games.away_team_id,
    case when targets.team_id = games.home_team_id then 1 else 0 end as home_flag,
    case when targets.team_id = games.home_team_id then games.away_team_id else games.home_team_id end
        as opponent_team_id,
    case when targets.team_id = games.home_team_id then games.home_team_name else games.away_team_name end
        as team_name,
    case when targets.team_id = games.home_team_id then games.home_tricode else games.away_tricode end
        as team_tricode,
    case when targets.team_id = games.home_team_id then games.away_team_name else games.home_team_name end
        as opponent_team_name,
    case when targets.team_id = games.home_team_id then games.away_tricode else games.home_tricode end
        as opponent_team_tricode
from targets
inner join games on targets.game_id = games.game_id
