-- History (tag history): one row per (team, game) with a box score, numbered with int_team_history's seq
-- (availability order), with the season's running regular-season record and the team's rest pattern.
--   won: points > points allowed (box-score totals); season_reg_wins / season_reg_losses: running sums
--     over the team's regular-season games of the season up to and including this row.
--   rest_flag: 1 when at least one of the team's usual rotation players did not play (play_status dnp or
--     inactive: coach's decision, rest, injury, not with team). Usual rotation player = a box-score row of
--     this team whose previous rotation-eligible game (int_player_history) was with the same team, at most
--     15 days before, with an average of >= 20 minutes over his last (up to) 10 rotation-eligible games, at
--     least 3 of them: all of it strictly before this game, so the flag reads this game's box score only.
--   season_rest_games_10 / season_games_10: rest_flag sum and game count over the team's last (up to) 10
--     games of the season, this one included.
-- A target reads the row at its prior_seq (int_team_standings_asof). Every aggregate looks back only.
with

team_history as (

    select * from {{ ref('int_team_history') }}

),

box_scores as (

    select * from {{ ref('int_box_scores_deduped') }}

),

game_types as (

    select game_id, min(game_type) as game_type
    from box_scores
    group by game_id

),

-- the seq of the player's last rotation-eligible row strictly before each box-score row (int_player_history
-- numbers eligible rows in this same order: available_ts, game_id, team_id)
box_rows as (

    select
        game_id,
        team_id,
        player_id,
        game_date,
        play_status,
        sum(case when is_rotation_eligible then 1 else 0 end) over (
            partition by player_id order by available_ts, game_id, team_id
            rows between unbounded preceding and 1 preceding
        ) as prior_player_seq
    from box_scores

),

player_form as (

    select
        player_id,
        seq,
        team_id,
        game_date,
        avg(minutes_clipped) over (partition by player_id order by seq rows between 9 preceding and current row)
            as avg_minutes_10,
        count(*) over (partition by player_id order by seq rows between 9 preceding and current row) as games_10
    from {{ ref('int_player_history') }}

),

rest_flags as (

    select
        box_rows.game_id,
        box_rows.team_id,
        max(case
            when box_rows.play_status in ('dnp', 'inactive')
                and player_form.team_id = box_rows.team_id
                and player_form.games_10 >= 3
                and player_form.avg_minutes_10 >= 20
                and {{ days_between('player_form.game_date', 'box_rows.game_date') }} <= 15
                then 1
            else 0
        end) as rest_flag
    from box_rows
    left join player_form
        on box_rows.player_id = player_form.player_id
        and box_rows.prior_player_seq = player_form.seq
    group by box_rows.game_id, box_rows.team_id

),

flagged as (

    select
        team_history.team_id,
        team_history.game_id,
        team_history.seq,
        team_history.season,
        team_history.game_date,
        team_history.available_ts,
        game_types.game_type,
        case when game_types.game_type = 'regular' and team_history.points > team_history.points_allowed
            then 1 else 0 end as reg_win,
        case when game_types.game_type = 'regular' and team_history.points < team_history.points_allowed
            then 1 else 0 end as reg_loss,
        coalesce(rest_flags.rest_flag, 0) as rest_flag
    from team_history
    left join game_types on team_history.game_id = game_types.game_id
    left join rest_flags
        on team_history.game_id = rest_flags.game_id
        and team_history.team_id = rest_flags.team_id

)

select
    flagged.*,
    sum(reg_win) over (partition by team_id, season order by seq
                       rows between unbounded preceding and current row) as season_reg_wins,
    sum(reg_loss) over (partition by team_id, season order by seq
                        rows between unbounded preceding and current row) as season_reg_losses,
    sum(rest_flag) over (partition by team_id, season order by seq
                         rows between 9 preceding and current row) as season_rest_games_10,
    count(*) over (partition by team_id, season order by seq
                   rows between 9 preceding and current row) as season_games_10
from flagged
