-- Step 6 of int_features: availability within the team-game, per world - each row's position bucket
-- (listed position, else the prior stat profile), whether he is available / vacating minutes, and his
-- teammates' counts: available players of his archetype (depth_same_pos_active) and the season minutes
-- vacated by teammates (vac_min_*), his own contribution removed.
{{ config(materialized='ephemeral') }}
with

worlded as (

    select * from {{ ref('int_features_worlds') }}

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

)

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
