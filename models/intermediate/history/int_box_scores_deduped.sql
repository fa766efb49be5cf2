-- History (tag history: rebuilt only when box scores or the schedule states of played games change;
-- minutes_live/pipeline/history.py): box-score rows known at run_context.history_cap_ts (all when null), last copy
-- per (game, player, team).
-- available_ts = first publication of the game's box score, bumped to just after tip: a history row
-- may feed a cutoff only when available_ts <= cutoff_ts (so tip_ts < cutoff_ts and published by then).
-- is_rotation_eligible: the one rolling-window population (played + coach's-decision DNP, 0 minutes).
-- is_return_game: first eligible game after an absence row.
with

box_scores as (

    select * from {{ ref('stg_raw__box_scores') }}
    where snapshot_ts <= coalesce({{ run_value('history_cap_ts') }}, snapshot_ts)

),

last_copy as (

    {{ latest_row('box_scores', ['game_id', 'player_id', 'team_id'], 'snapshot_ts desc, ingested_at desc, content_hash asc') }}

),

game_publication as (

    select game_id, min(snapshot_ts) as first_published_ts
    from box_scores
    group by game_id

),

schedules as (

    select game_id, tip_ts, snapshot_ts, ingested_at, content_hash from {{ ref('stg_raw__schedules') }}
    where snapshot_ts <= coalesce({{ run_value('history_cap_ts') }}, snapshot_ts)

),

-- the tip of each game: its newest schedule state at the cap (the int_games rule, without the run's cutoff)
games as (

    select game_id, tip_ts from (
        {{ latest_row('schedules', ['game_id'], 'snapshot_ts desc, ingested_at desc, content_hash asc') }}
    ) as latest_state
    where tip_ts is not null

)
,

labelled as (

    select
        last_copy.game_id,
        last_copy.player_id,
        last_copy.team_id,
        last_copy.opponent_team_id,
        last_copy.season,
        last_copy.game_date,
        last_copy.game_type,
        last_copy.is_home,
        last_copy.player_name,
        last_copy.is_starter,
        last_copy.play_status,
        last_copy.dnp_reason,
        last_copy.minutes,
        last_copy.overtimes,
        last_copy.fga,
        last_copy.fta,
        last_copy.orb,
        last_copy.tov,
        last_copy.pts,
        last_copy.trb,
        last_copy.ast,
        last_copy.blk,
        last_copy.fg3a,
        games.tip_ts,
        last_copy.snapshot_ts as label_snapshot_ts,
        case
            when games.tip_ts is null then game_publication.first_published_ts
            when game_publication.first_published_ts > {{ ts_epsilon_after('games.tip_ts') }}
                then game_publication.first_published_ts
            else {{ ts_epsilon_after('games.tip_ts') }}
        end as available_ts,
        (
            last_copy.play_status = 'played'
            or (
                last_copy.play_status = 'dnp'
                and (
                    last_copy.dnp_reason is null
                    or lower(last_copy.dnp_reason) in ('did not play', 'dnp', 'dnp-cd', 'coach''s decision', 'coaches decision')
                    or lower(last_copy.dnp_reason) like '%coach%'
                )
            )
        ) as is_rotation_eligible
    
    from last_copy
    inner join game_publication on last_copy.game_id = game_publication.game_id
    left join games on last_copy.game_id = games.game_id

)

select
    labelled.*,
    -- a return game: eligible, and the player's previous box-score row was an absence (inactive, did not
    -- dress, not with team, ...); feeds games_since_return / days_since_return
    coalesce(
        is_rotation_eligible
        and lag(is_rotation_eligible) over (
            partition by player_id order by available_ts, game_id, team_id
        ) = false,
        false
    ) as is_return_game
from labelled
