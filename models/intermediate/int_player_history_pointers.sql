-- Places every feature row (target) in its player's history without a correlated subquery.
-- History = the player's rotation-eligible box-score rows (played + coach's-decision DNP), ordered by
-- availability (available_ts, then game_id, team_id); history_seq numbers them 1..n.
-- For a target, prior_seq = number of history rows with available_ts <= cutoff_ts, i.e. the seq of the
-- newest game that may feed it (0 = none). Targets sort after history rows at equal time (<= rule).
with

history as (

    select
        player_id,
        game_id,
        team_id,
        available_ts as event_ts,
        0 as event_order,
        1 as is_history,
        cast(null as varchar) as cutoff_kind
    from {{ ref('int_box_scores_deduped') }}
    where is_rotation_eligible

),

targets as (

    select
        player_id,
        game_id,
        team_id,
        cutoff_ts as event_ts,
        1 as event_order,
        0 as is_history,
        cutoff_kind
    from {{ ref('int_label_targets') }}

),

events as (

    select * from history
    union all
    select * from targets

),

numbered as (

    select
        events.*,
        sum(is_history) over (
            partition by player_id
            order by event_ts, event_order, game_id, team_id, cutoff_kind
            rows between unbounded preceding and current row
        ) as running_history_count
    from events

)

select
    player_id,
    game_id,
    team_id,
    cutoff_kind,
    is_history = 1 as is_history,
    running_history_count as seq
from numbered
