-- Rolling minutes / starts / rest features per feature row, from the player's last 10 history rows
-- before the cutoff (prior_seq - 9 .. prior_seq) that lie within history_days of the cutoff.
-- ONE window definition for gold and live: rotation-eligible prior games (played + coach's-decision DNP
-- at 0 minutes; inactive / not-with-team games excluded), minutes clipped to [0, 48].
-- recency_rank 1 = the most recent prior game.
with

targets as (

    {{ targets_with_prior_seq(ref('int_label_targets'), ref('int_player_history_pointers')) }}

),

history as (

    select * from {{ ref('int_player_history') }}

),

-- the 10 most recent history rows of a target are seq prior_seq - 9 .. prior_seq: expand each target into
-- those 10 sequence numbers and equi-join, instead of a range join over the player's whole history
recency as (

    select 1 as recency_rank union all select 2 union all select 3 union all select 4 union all select 5
    union all select 6 union all select 7 union all select 8 union all select 9 union all select 10

),

windowed as (

    select
        targets.cutoff_kind,
        targets.game_id,
        targets.player_id,
        targets.team_id,
        recency.recency_rank,
        history.minutes_clipped,
        history.starter,
        history.role_changed,
        history.game_date as prior_game_date,
        targets.game_date,
        (history.team_id = targets.team_id and history.season = targets.season) as same_team_season
    from targets
    cross join recency
    inner join history
        on targets.player_id = history.player_id
        and history.seq = targets.prior_seq - recency.recency_rank + 1
        and history.tip_ts >= {{ ts_minus('targets.cutoff_ts', run_value('history_days'), 'day') }}

),

team_season_ranked as (

    select
        windowed.*,
        case when same_team_season then
            row_number() over (
                partition by cutoff_kind, game_id, player_id, team_id, same_team_season
                order by recency_rank
            )
        end as team_season_rank
    from windowed

),

aggregated as (

    select
        cutoff_kind,
        game_id,
        player_id,
        team_id,
        count(*) as prior_games_10,
        max(case when recency_rank = 1 then minutes_clipped end) as min_last1,
        avg(case when recency_rank <= 3 then minutes_clipped end) as roll_mean_3,
        avg(case when recency_rank <= 5 then minutes_clipped end) as roll_mean_5,
        avg(minutes_clipped) as roll_mean_10,
        stddev_pop(minutes_clipped) as std_10,
        count(case when recency_rank <= 5 then minutes_clipped end) as n_5,
        {{ percentile_cont('case when recency_rank <= 5 then minutes_clipped end', 0.75) }}
            - {{ percentile_cont('case when recency_rank <= 5 then minutes_clipped end', 0.25) }} as iqr_5,
        count(case when team_season_rank <= 5 then minutes_clipped end) as n_team_5,
        stddev_pop(case when team_season_rank <= 5 then minutes_clipped end) as team_std_5,
        count(case when same_team_season then role_changed end) as n_team_10,
        avg(case when same_team_season then cast(role_changed as double) end) as role_change_mean_10,
        sum(case when prior_game_date >= game_date - 7 then minutes_clipped else 0 end) as sum_min_7d,
        max(case when recency_rank = 1 then starter end) as starter_prev_game,
        avg(cast(starter as double)) as start_pct_10,
        max(case when recency_rank = 1 then {{ days_between('prior_game_date', 'game_date') }} end) as days_since_last,
        max(case when recency_rank = 2 then {{ days_between('prior_game_date', 'game_date') }} end) as days_since_2nd_last,
        max(case when recency_rank = 3 then {{ days_between('prior_game_date', 'game_date') }} end) as days_since_3rd_last
    from team_season_ranked
    group by cutoff_kind, game_id, player_id, team_id

)

select
    cutoff_kind,
    game_id,
    player_id,
    team_id,
    prior_games_10,
    min_last1,
    roll_mean_3,
    roll_mean_5,
    roll_mean_10,
    coalesce(sum_min_7d, 0) as sum_min_7d,
    case when n_5 >= 2 then iqr_5 else 0 end as roll_iqr_5,
    case
        when prior_games_10 >= 3 and std_10 > 0 then (min_last1 - roll_mean_10) / std_10
        else 0
    end as z_vs_10,
    case when n_team_5 >= 3 then team_std_5 else 0 end as rotation_minutes_std_5g,
    case when n_team_10 >= 2 then role_change_mean_10 else 0 end as role_change_rate_10g,
    coalesce(starter_prev_game, 0) as starter_prev_game_asof,
    coalesce(start_pct_10, 0) as recent_start_pct_10,
    days_since_last,
    case when days_since_last = 1 then 1 else 0 end as is_b2b,
    case when days_since_2nd_last <= 3 then 1 else 0 end as is_3in4,
    case when days_since_3rd_last <= 5 then 1 else 0 end as is_4in6
from aggregated
