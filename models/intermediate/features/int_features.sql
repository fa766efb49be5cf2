-- All feature columns for every (cutoff_kind, game, player, team, scenario_id). The marts only filter on
-- cutoff_kind (and scenario_id): one code path, two cutoffs. Decisions behind each column: docs/features.md.
-- scenario_id -1 = the injury report as reported (the marts features_minutes_v1[_live]); a live team-game with
-- game-time-decision players also gets its worlds 0 .. 2^K - 1 (int_status_worlds), the same rows with the
-- GTD players' status overridden (int_status_overrides): features_minutes_v1_live_scenarios.
-- Built in steps (ephemeral models, compiled into this one; each adds its columns to the previous step's):
--   int_features_rows          the feature rows and their game, team and opponent
--   int_features_snapshots     injury report, roster / lineup and odds as of the cutoff
--   int_features_player_form   rolling minutes, starts and rest; season minutes, return, stat profile
--   int_features_team_context  own and opponent team context and standings
--   int_features_worlds        the game-time-decision worlds, each row's status in its world, listing context
--   int_features_availability  position bucket, availability, teammates' depth and vacated minutes
-- This model: the contract's types and the columns derived from the steps' (flags, scores, lineup, as-of).
with

assembled as (

    select * from {{ ref('int_features_availability') }}

)

select
    cutoff_kind,
    cast(game_id as bigint) as game_id,
    cast(player_id as bigint) as player_id,
    cast(team_id as bigint) as team_id,
    player_name,
    team_name,
    team_tricode,
    season,
    game_date,
    cast(minutes as double) as minutes,
    tip_ts,
    cast(home_team_id as bigint) as home_team_id,
    cast(away_team_id as bigint) as away_team_id,
    cast(home_flag as bigint) as home_flag,
    cast(opponent_team_id as bigint) as opponent_team_id,
    opponent_team_name,
    opponent_team_tricode,
    status,
    coalesce({{ regex_contains('lower(injury_reason)', 'restrict|limit|minutes|conditioning') }}, false) as restriction_flag,
    coalesce({{ regex_contains('lower(injury_reason)', 'ramp|recover|return to (play|competition)|reconditioning') }}, false)
        as ramp_flag,
    cast(games_since_return as bigint) as games_since_return,
    cast(days_since_return as bigint) as days_since_return,
    injury_as_of_ts,
    cast(case status
        when 'OUT' then 0.0e0
        when 'DOUBTFUL' then 0.25e0
        when 'QUESTIONABLE' then 0.55e0
        when 'PROBABLE' then 0.78e0
        when 'AVAILABLE' then 0.97e0
        else 0.82e0
    end as double) as prior_play_prob,
    cast(case when status = 'OUT' then 1 else 0 end as bigint) as is_out,
    cast(case when status = 'QUESTIONABLE' then 1 else 0 end as bigint) as is_q,
    cast(case when status = 'PROBABLE' then 1 else 0 end as bigint) as is_prob,
    cast(case when injury_as_of_ts is null then 1 else 0 end as bigint) as injury_snapshot_missing,
    spread_home,
    total,
    odds_as_of_ts,
    round(greatest(0, abs(coalesce(spread_home, 0)) / 10.0e0 + (coalesce(total, 220) - 220) / 100.0e0), 4)
        as blowout_index,
    case when spread_home is null then 0.5e0 else least(1.0e0, greatest(0.0e0, abs(spread_home) - 8) / 12.0e0) end
        as blowout_risk_score,
    case when spread_home is null then 0.5e0 else least(1.0e0, greatest(0.0e0, 8 - abs(spread_home)) / 8.0e0) end
        as close_game_score,
    cast(available_b as bigint) as {{ adapter.quote("available_B") }},
    cast(available_g as bigint) as {{ adapter.quote("available_G") }},
    cast(available_w as bigint) as {{ adapter.quote("available_W") }},
    cast(depth_same_pos_active as bigint) as depth_same_pos_active,
    archetype,
    pos_bucket,
    roster_as_of_ts,
    lineup_role,
    case lineup_role when 'confirmed_starter' then 'confirmed' when 'projected_starter' then 'expected' end
        as lineup_status,
    case when roster_active_flag then 'ACTIVE' when not roster_active_flag then 'INACTIVE' end
        as lineup_roster_status,
    case when lineup_role is not null then roster_as_of_ts end as lineup_timestamp,
    coalesce(lineup_role in ('confirmed_starter', 'projected_starter'), false) as is_projected_starter,
    coalesce(lineup_role = 'confirmed_starter', false) as is_confirmed_starter,
    cast(case when depth_same_pos_active > 0 then 1 else 0 end as bigint) as same_archetype_overlap,
    {{ stable_double('min_last1') }} as min_last1,
    {{ stable_double('roll_mean_3') }} as min_last3,
    {{ stable_double('roll_mean_5') }} as min_last5,
    {{ stable_double('sum_min_7d') }} as sum_min_7d,
    {{ stable_double('roll_mean_3') }} as roll_mean_3,
    {{ stable_double('roll_mean_5') }} as roll_mean_5,
    {{ stable_double('roll_mean_10') }} as roll_mean_10,
    {{ stable_double('roll_iqr_5') }} as roll_iqr_5,
    {{ stable_double('rotation_minutes_std_5g') }} as rotation_minutes_std_5g,
    {{ stable_double('z_vs_10') }} as z_vs_10,
    {{ stable_double('role_change_rate_10g') }} as role_change_rate_10g,
    least(1.0e0, greatest(0.0e0, {{ days_between('season_start_date', 'game_date') }} / 180.0e0)) as season_phase,
    -- pre-tip lineup only (never the game's own box score): lineup role when the roster row has one,
    -- else the previous game's start
    cast(case
        when lineup_role in ('confirmed_starter', 'projected_starter') then 1
        when lineup_role in ('bench', 'out') then 0
        else starter_prev_game_asof
    end as bigint) as starter_flag,
    cast(starter_prev_game_asof as double) as starter_prev_game_asof,
    {{ stable_double('recent_start_pct_10') }} as recent_start_pct_10,
    cast(days_since_last as bigint) as days_since_last,
    cast(is_b2b as bigint) as is_b2b,
    cast(is_3in4 as bigint) as is_3in4,
    cast(is_4in6 as bigint) as is_4in6,
    {{ stable_double('team_minutes_dispersion_prior') }} as team_minutes_dispersion_prior,
    cast(0 as double) as arch_delta_sum,
    cast(0 as double) as arch_delta_same_pos,
    cast(0 as double) as arch_delta_max_role,
    cast(0 as double) as arch_delta_min_role,
    cast(0 as bigint) as arch_missing_same_pos_count,
    cast(0 as bigint) as arch_missing_total_count,
    least(
        tip_ts,
        coalesce(
            greatest(
                coalesce(injury_as_of_ts, odds_as_of_ts, roster_as_of_ts),
                coalesce(odds_as_of_ts, injury_as_of_ts, roster_as_of_ts),
                coalesce(roster_as_of_ts, injury_as_of_ts, odds_as_of_ts)
            ),
            tip_ts
        )
    ) as feature_as_of_ts,
    {{ stable_double('vac_min_szn') }} as vac_min_szn,
    {{ stable_double('vac_min_guard_szn') }} as vac_min_guard_szn,
    {{ stable_double('vac_min_wing_szn') }} as vac_min_wing_szn,
    {{ stable_double('vac_min_big_szn') }} as vac_min_big_szn,
    {{ stable_double('team_pace_szn') }} as team_pace_szn,
    {{ stable_double('opp_pace_szn') }} as opp_pace_szn,
    {{ stable_double('team_off_rtg_szn') }} as team_off_rtg_szn,
    {{ stable_double('team_def_rtg_szn') }} as team_def_rtg_szn,
    {{ stable_double('opp_def_rtg_szn') }} as opp_def_rtg_szn,
    {{ stable_double('team_win_pct') }} as team_win_pct,
    {{ stable_double('games_behind_6th') }} as games_behind_6th,
    {{ stable_double('games_behind_10th') }} as games_behind_10th,
    cast(games_left as bigint) as games_left,
    cast(clinched_playoff as bigint) as clinched_playoff,
    cast(eliminated as bigint) as eliminated,
    cast(seed_locked as bigint) as seed_locked,
    {{ stable_double('team_rest_rate_10g') }} as team_rest_rate_10g,
    {{ stable_double('opp_win_pct') }} as opp_win_pct,
    roster_game_date_source,
    label_source,
    game_type,
    cutoff_ts,
    status_role,
    -- listed now (status other than UNK) and not on the report of the team's previous game: first; else
    -- played / missed that game (no previous game: missed)
    case
        when status <> 'UNK' and not coalesce(prior_game_listed, false) then 'first'
        when prior_game_played then 'played'
        else 'missed'
    end as status_state,
    scenario_id,
    scenario_gtd_player_ids,
    scenario_out_player_ids
from assembled
