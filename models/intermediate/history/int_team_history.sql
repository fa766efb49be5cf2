-- History (tag history): each team's games numbered 1..n by availability (available_ts, then game_id) as
-- seq, with season-to-date running sums of possessions and points for and against. A target reads the row
-- at its prior_seq (int_team_context_prior). Every sum looks back only.
with

sequenced as (

    select
        team_games.*,
        row_number() over (partition by team_id order by available_ts, game_id) as seq
    from {{ ref('int_team_games') }} as team_games

)

select
    sequenced.*,
    count(*) over (partition by team_id, season order by seq
                   rows between unbounded preceding and current row) as season_games,
    sum(possessions) over (partition by team_id, season order by seq
                           rows between unbounded preceding and current row) as season_possessions,
    sum(points) over (partition by team_id, season order by seq
                      rows between unbounded preceding and current row) as season_points,
    sum(opponent_possessions) over (partition by team_id, season order by seq
                                    rows between unbounded preceding and current row) as season_opponent_possessions,
    sum(points_allowed) over (partition by team_id, season order by seq
                              rows between unbounded preceding and current row) as season_points_allowed
from sequenced
