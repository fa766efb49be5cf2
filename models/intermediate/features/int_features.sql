-- All feature columns for every (cutoff_kind, game, player, team, scenario_id). The marts only filter on
-- cutoff_kind (and scenario_id): one code path, two cutoffs. Decisions behind each column: docs/features.md.
-- scenario_id -1 = the injury report as reported (the marts features_minutes_v1[_live]); a live team-game with
-- game-time-decision players also gets its worlds 0 .. 2^K - 1 (int_status_worlds), the same rows with the
-- GTD players' status overridden (int_status_overrides): features_minutes_v1_live_scenarios.
with

targets as (

    select * from {{ ref('int_label_targets') }}

),

games as (

    select * from {{ ref('int_games') }}

),

rosters as (

    select * from {{ ref('int_roster_asof') }}

),

injuries as (

    select * from {{ ref('int_injury_status_asof') }}

),

odds as (

    select * from {{ ref('int_odds_asof') }}

),

rolling as (

    select * from {{ ref('int_player_minutes_rolling') }}

),

team_context as (

    select * from {{ ref('int_team_context_prior') }}

),

listing as (

    select * from {{ ref('int_status_listing_context') }}

),

worlds as (

    select * from {{ ref('int_status_worlds') }}

),

overrides as (

    select * from {{ ref('int_status_overrides') }}

),

prior_profile as (

    -- the newest history row before the cutoff carries season-to-date minutes and the stat profile
    select
        pointers.cutoff_kind,
        pointers.game_id,
        pointers.player_id,
        pointers.team_id,
        history.season as prior_season,
        pointers.seq as prior_seq,
        history.season_minutes_to_date,
        history.last_return_seq,
        history.last_return_date,
        history.profile_minutes,
        history.profile_trb,
        history.profile_ast,
        history.profile_blk,
        history.profile_fg3a
    from {{ ref('int_player_history_pointers') }} as pointers
    inner join {{ ref('int_player_history') }} as history
        on pointers.player_id = history.player_id
        and pointers.seq = history.seq

),

joined as (

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
            as opponent_team_tricode,

        -- injury report as of the cutoff; no qualifying row = UNK (not on a qualifying report)
        coalesce(injuries.status, 'UNK') as reported_status,
        injuries.reason as injury_reason,
        injuries.snapshot_ts as injury_as_of_ts,

        -- roster / lineup as of the cutoff
        rosters.active_flag as roster_active_flag,
        rosters.lineup_role,
        rosters.listed_pos,
        rosters.snapshot_ts as roster_as_of_ts,
        rosters.roster_game_date_source,

        -- odds as of the cutoff
        odds.spread_home,
        odds.total,
        odds.snapshot_ts as odds_as_of_ts,

        rolling.min_last1,
        rolling.roll_mean_3,
        rolling.roll_mean_5,
        rolling.roll_mean_10,
        coalesce(rolling.sum_min_7d, 0) as sum_min_7d,
        coalesce(rolling.roll_iqr_5, 0) as roll_iqr_5,
        coalesce(rolling.rotation_minutes_std_5g, 0) as rotation_minutes_std_5g,
        coalesce(rolling.z_vs_10, 0) as z_vs_10,
        coalesce(rolling.role_change_rate_10g, 0) as role_change_rate_10g,
        coalesce(rolling.starter_prev_game_asof, 0) as starter_prev_game_asof,
        coalesce(rolling.recent_start_pct_10, 0) as recent_start_pct_10,
        rolling.days_since_last,
        coalesce(rolling.is_b2b, 0) as is_b2b,
        coalesce(rolling.is_3in4, 0) as is_3in4,
        coalesce(rolling.is_4in6, 0) as is_4in6,

        case when prior_profile.prior_season = games.season then prior_profile.season_minutes_to_date else 0 end
            as season_minutes_prior,
        case
            when prior_profile.prior_season = games.season and prior_profile.last_return_seq is not null
                then prior_profile.prior_seq - prior_profile.last_return_seq + 1
            else 0
        end as games_since_return,
        case
            when prior_profile.prior_season = games.season and prior_profile.last_return_date is not null
                then {{ days_between('prior_profile.last_return_date', 'games.game_date') }}
            else 0
        end as days_since_return,
        prior_profile.profile_minutes,
        prior_profile.profile_trb,
        prior_profile.profile_ast,
        prior_profile.profile_blk,
        prior_profile.profile_fg3a,

        own_team.team_pace_szn,
        own_team.team_off_rtg_szn,
        own_team.team_def_rtg_szn,
        own_team.team_minutes_dispersion_prior,
        opponent_team.team_pace_szn as opp_pace_szn,
        opponent_team.team_def_rtg_szn as opp_def_rtg_szn,

        -- conference standings and rest pattern at the cutoff (int_team_standings_asof)
        own_standings.team_win_pct,
        own_standings.games_behind_6th,
        own_standings.games_behind_10th,
        own_standings.games_left,
        own_standings.clinched_playoff,
        own_standings.eliminated,
        own_standings.seed_locked,
        own_standings.team_rest_rate_10g,
        opponent_standings.team_win_pct as opp_win_pct

    from targets
    inner join games on targets.game_id = games.game_id
    left join rosters
        on targets.cutoff_kind = rosters.cutoff_kind
        and targets.game_id = rosters.game_id
        and targets.team_id = rosters.team_id
        and targets.player_id = rosters.player_id
    left join injuries
        on targets.cutoff_kind = injuries.cutoff_kind
        and targets.game_id = injuries.game_id
        and targets.player_id = injuries.player_id
        and not injuries.is_superseded
    left join odds
        on targets.cutoff_kind = odds.cutoff_kind
        and targets.game_id = odds.game_id
    left join rolling
        on targets.cutoff_kind = rolling.cutoff_kind
        and targets.game_id = rolling.game_id
        and targets.player_id = rolling.player_id
        and targets.team_id = rolling.team_id
    left join prior_profile
        on targets.cutoff_kind = prior_profile.cutoff_kind
        and targets.game_id = prior_profile.game_id
        and targets.player_id = prior_profile.player_id
        and targets.team_id = prior_profile.team_id
    left join team_context as own_team
        on targets.cutoff_kind = own_team.cutoff_kind
        and targets.game_id = own_team.game_id
        and targets.team_id = own_team.team_id
    left join team_context as opponent_team
        on targets.cutoff_kind = opponent_team.cutoff_kind
        and targets.game_id = opponent_team.game_id
        and opponent_team.team_id = case when targets.team_id = games.home_team_id
                                         then games.away_team_id else games.home_team_id end
    left join {{ ref('int_team_standings_asof') }} as own_standings
        on targets.cutoff_kind = own_standings.cutoff_kind
        and targets.game_id = own_standings.game_id
        and targets.team_id = own_standings.team_id
    left join {{ ref('int_team_standings_asof') }} as opponent_standings
        on targets.cutoff_kind = opponent_standings.cutoff_kind
        and targets.game_id = opponent_standings.game_id
        and opponent_standings.team_id = case when targets.team_id = games.home_team_id
                                              then games.away_team_id else games.home_team_id end

),

-- the worlds (scenario_id -1 for every row; 0 .. 2^K - 1 for the rows of a live team-game with GTD players)
-- and each row's status in its world: the reported one, or the GTD override; plus the listing context
worlded as (

    select
        joined.*,
        coalesce(worlds.scenario_id, cast(-1 as bigint)) as scenario_id,
        worlds.scenario_gtd_player_ids,
        worlds.scenario_out_player_ids,
        coalesce(overrides.scenario_status, joined.reported_status) as status,
        listing.status_role,
        listing.prior_game_listed,
        listing.prior_game_played
    from joined
    left join worlds
        on joined.cutoff_kind = worlds.cutoff_kind
        and joined.game_id = worlds.game_id
        and joined.team_id = worlds.team_id
    left join overrides
        on worlds.cutoff_kind = overrides.cutoff_kind
        and worlds.game_id = overrides.game_id
        and worlds.team_id = overrides.team_id
        and worlds.scenario_id = overrides.scenario_id
        and joined.player_id = overrides.player_id
    left join listing
        on joined.cutoff_kind = listing.cutoff_kind
        and joined.game_id = listing.game_id
        and joined.player_id = listing.player_id
        and joined.team_id = listing.team_id

),

positioned as (

    select
        worlded.*,
        -- listed position when the roster has one; else the prior stat profile (last 82 eligible games,
        -- >= 150 minutes): BIG if rebounds >= 9.5 or blocks >= 1.5 per 36, G if assists >= 4.5 per 36, else W
        case
            when listed_pos like '%C%' or listed_pos like '%PF%' then 'BIG'
            when listed_pos like '%F%' then 'W'
            when listed_pos like '%G%' then 'G'
            when profile_minutes >= 150 and (36.0e0 * profile_trb / profile_minutes >= 9.5e0
                                              or 36.0e0 * profile_blk / profile_minutes >= 1.5e0) then 'BIG'
            when profile_minutes >= 150 and 36.0e0 * profile_ast / profile_minutes >= 4.5e0 then 'G'
            when profile_minutes >= 150 then 'W'
            else 'UNK'
        end as pos_bucket,
        case
            when status = 'OUT' then 0
            when roster_active_flag = false then 0
            when lineup_role = 'out' then 0
            else 1
        end as is_available,
        case
            when status in ('OUT', 'DOUBTFUL') then 1
            when roster_active_flag = false then 1
            when lineup_role = 'out' then 1
            else 0
        end as is_vacating
    from worlded

),

archetyped as (

    select
        positioned.*,
        -- availability buckets: G / W / B; UNK counts as W (the original's default for a missing position)
        case pos_bucket when 'G' then 'G' when 'BIG' then 'B' else 'W' end as archetype
    from positioned

),

team_counts as (

    select
        cutoff_kind,
        game_id,
        team_id,
        scenario_id,
        sum(case when archetype = 'G' then is_available else 0 end) as available_g,
        sum(case when archetype = 'W' then is_available else 0 end) as available_w,
        sum(case when archetype = 'B' then is_available else 0 end) as available_b,
        sum(is_vacating * season_minutes_prior) as vacated_minutes,
        sum(case when pos_bucket = 'G' then is_vacating * season_minutes_prior else 0 end) as vacated_guard_minutes,
        sum(case when pos_bucket = 'W' then is_vacating * season_minutes_prior else 0 end) as vacated_wing_minutes,
        sum(case when pos_bucket = 'BIG' then is_vacating * season_minutes_prior else 0 end) as vacated_big_minutes
    from archetyped
    group by cutoff_kind, game_id, team_id, scenario_id

),


assembled as (

    select
        archetyped.*,
        team_counts.available_g,
        team_counts.available_w,
        team_counts.available_b,
        -- teammates only: remove the player's own contribution
        greatest(
            case archetyped.archetype
                when 'G' then team_counts.available_g
                when 'B' then team_counts.available_b
                else team_counts.available_w
            end - archetyped.is_available,
            0
        ) as depth_same_pos_active,
        team_counts.vacated_minutes - archetyped.is_vacating * archetyped.season_minutes_prior as vac_min_szn,
        team_counts.vacated_guard_minutes
            - case when archetyped.pos_bucket = 'G' then archetyped.is_vacating * archetyped.season_minutes_prior else 0 end
            as vac_min_guard_szn,
        team_counts.vacated_wing_minutes
            - case when archetyped.pos_bucket = 'W' then archetyped.is_vacating * archetyped.season_minutes_prior else 0 end
            as vac_min_wing_szn,
        team_counts.vacated_big_minutes
            - case when archetyped.pos_bucket = 'BIG' then archetyped.is_vacating * archetyped.season_minutes_prior else 0 end
            as vac_min_big_szn
    from archetyped
    inner join team_counts
        on archetyped.cutoff_kind = team_counts.cutoff_kind
        and archetyped.game_id = team_counts.game_id
        and archetyped.team_id = team_counts.team_id
        and archetyped.scenario_id = team_counts.scenario_id

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
