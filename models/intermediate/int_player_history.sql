-- Rotation-eligible history rows with their sequence number and per-row running aggregates
-- (season-to-date minutes, last-82-game stat profile, starter-role change indicator, latest return game
-- from an absence this season).
-- Targets read these at their prior_seq: "everything strictly before the cutoff" in one lookup.
with

box_scores as (

    select * from {{ ref('int_box_scores_deduped') }}
    where is_rotation_eligible

),

sequence as (

    select player_id, game_id, team_id, seq
    from {{ ref('int_player_history_pointers') }}
    where is_history

),

sequenced as (

    select
        box_scores.*,
        sequence.seq
    from box_scores
    inner join sequence
        on box_scores.player_id = sequence.player_id
        and box_scores.game_id = sequence.game_id
        and box_scores.team_id = sequence.team_id

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
