-- History (tag history): rotation-eligible box-score rows of each player, numbered 1..n by availability
-- (available_ts, then game_id, team_id) as seq, with per-row running aggregates (season-to-date minutes,
-- last-82-game stat profile, starter-role change indicator, latest return game from an absence this season).
-- A target reads these at its prior_seq (int_player_history_pointers): "everything strictly before the
-- cutoff" in one lookup. Every aggregate looks back only, so rows published after a run's cutoff change
-- nothing at or before its prior_seq.
with

sequenced as (

    select
        box_scores.*,
        row_number() over (
            partition by player_id order by available_ts, game_id, team_id
        ) as seq
    from {{ ref('int_box_scores_deduped') }} as box_scores
    where is_rotation_eligible

)

select
    player_id,
    game_id,
    team_id,
    seq,
    season,
    game_date,
    tip_ts,
    available_ts,
    least(greatest(minutes, 0), 48) as minutes_clipped,
    minutes,
    case when is_starter then 1 else 0 end as starter,
    -- 1 when the starter role differs from the previous row of the same (player, team, season); first row = 1
    case
        when lag(is_starter) over (partition by player_id, team_id, season order by seq) is null then 1
        when lag(is_starter) over (partition by player_id, team_id, season order by seq) <> is_starter then 1
        else 0
    end as role_changed,
    sum(minutes) over (partition by player_id, season order by seq rows between unbounded preceding and current row)
        as season_minutes_to_date,
    max(case when is_return_game then seq end) over (
        partition by player_id, season order by seq rows between unbounded preceding and current row
    ) as last_return_seq,
    max(case when is_return_game then game_date end) over (
        partition by player_id, season order by seq rows between unbounded preceding and current row
    ) as last_return_date,
    sum(minutes) over (partition by player_id order by seq rows between 81 preceding and current row) as profile_minutes,
    sum(coalesce(trb, 0)) over (partition by player_id order by seq rows between 81 preceding and current row) as profile_trb,
    sum(coalesce(ast, 0)) over (partition by player_id order by seq rows between 81 preceding and current row) as profile_ast,
    sum(coalesce(blk, 0)) over (partition by player_id order by seq rows between 81 preceding and current row) as profile_blk,
    sum(coalesce(fg3a, 0)) over (partition by player_id order by seq rows between 81 preceding and current row) as profile_fg3a
from sequenced
