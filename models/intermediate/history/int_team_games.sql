-- One row per (game, team) with a box score: possessions (FGA + 0.44 FTA - ORB + TOV), points for and
-- against, the opponent's possessions, and the spread of player minutes (rotation-eligible rows).
-- History (tag history): rebuilt only when box scores change (minutes_live/pipeline/history.py).
with

box_scores as (

    select * from {{ ref('int_box_scores_deduped') }}

),

team_totals as (

    select
        game_id,
        team_id,
        min(opponent_team_id) as opponent_team_id,
        min(season) as season,
        min(game_date) as game_date,
        min(available_ts) as available_ts,
        min(overtimes) as overtimes,
        sum(coalesce(fga, 0)) + 0.44e0 * sum(coalesce(fta, 0)) - sum(coalesce(orb, 0)) + sum(coalesce(tov, 0))
            as possessions,
        sum(coalesce(pts, 0)) as points,
        sum(minutes) as team_minutes,
        stddev_pop(case when is_rotation_eligible then minutes end) as minutes_dispersion
    from box_scores
    group by game_id, team_id

)

select
    team_totals.game_id,
    team_totals.team_id,
    team_totals.opponent_team_id,
    team_totals.season,
    team_totals.game_date,
    team_totals.available_ts,
    team_totals.overtimes,
    team_totals.team_minutes,
    team_totals.possessions,
    team_totals.points,
    opponent.possessions as opponent_possessions,
    opponent.points as points_allowed,
    team_totals.minutes_dispersion
from team_totals
left join team_totals as opponent
    on team_totals.game_id = opponent.game_id
    and team_totals.opponent_team_id = opponent.team_id
