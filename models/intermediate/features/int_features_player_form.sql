-- Step 3 of int_features: the player's form before the cutoff - the rolling minutes, starts and rest
-- features (int_player_minutes_rolling; no prior game = 0 where the contract has no null) and, from his
-- newest history row before the cutoff (int_player_history at int_player_history_pointers.seq), the
-- season's minutes so far, games and days since his return, and the last-82-game stat profile.
{{ config(materialized='ephemeral') }}
with

feature_rows as (

    select * from {{ ref('int_features_snapshots') }}

),

rolling as (

    select * from {{ ref('int_player_minutes_rolling') }}

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

)

select
    feature_rows.*,

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

    case when prior_profile.prior_season = feature_rows.season then prior_profile.season_minutes_to_date else 0 end
        as season_minutes_prior,
    case
        when prior_profile.prior_season = feature_rows.season and prior_profile.last_return_seq is not null
            then prior_profile.prior_seq - prior_profile.last_return_seq + 1
        else 0
    end as games_since_return,
    case
        when prior_profile.prior_season = feature_rows.season and prior_profile.last_return_date is not null
            then {{ days_between('prior_profile.last_return_date', 'feature_rows.game_date') }}
        else 0
    end as days_since_return,
    prior_profile.profile_minutes,
    prior_profile.profile_trb,
    prior_profile.profile_ast,
    prior_profile.profile_blk,
    prior_profile.profile_fg3a

from feature_rows
left join rolling
    on feature_rows.cutoff_kind = rolling.cutoff_kind
    and feature_rows.game_id = rolling.game_id
    and feature_rows.player_id = rolling.player_id
    and feature_rows.team_id = rolling.team_id
left join prior_profile
    on feature_rows.cutoff_kind = prior_profile.cutoff_kind
    and feature_rows.game_id = prior_profile.game_id
    and feature_rows.player_id = prior_profile.player_id
    and feature_rows.team_id = prior_profile.team_id
