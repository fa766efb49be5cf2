-- Places every feature row (target) in its player's history: prior_seq = the number of the player's history
-- rows (int_player_history) with available_ts <= cutoff_ts, i.e. the seq of the newest game that may feed
-- it (0 = none). A running max of seq over the time-ordered union of history rows and targets, where
-- targets sort after history rows at equal time (the <= rule); only the history of the targets' players
-- is read, so a live slate reads a few hundred players' rows whatever the stored history.
with

targets as (

    select player_id, game_id, team_id, cutoff_kind, cutoff_ts
    from {{ ref('int_label_targets') }}

),

history as (

    select history.player_id, history.game_id, history.team_id, history.available_ts, history.seq
    from {{ ref('int_player_history') }} as history
    where history.player_id in (select targets.player_id from targets)

),

events as (

    select player_id, game_id, team_id, available_ts as event_ts, 0 as event_order,
           cast(null as {{ string_type() }}) as cutoff_kind, seq
    from history
    union all
    select player_id, game_id, team_id, cutoff_ts as event_ts, 1 as event_order,
           cutoff_kind, cast(null as bigint) as seq
    from targets

),

numbered as (

    select
        events.*,
        max(seq) over (
            partition by player_id
            order by event_ts, event_order, game_id, team_id, cutoff_kind
            rows between unbounded preceding and current row
        ) as running_seq
    from events

)

select
    player_id,
    game_id,
    team_id,
    cutoff_kind,
    coalesce(running_seq, 0) as seq
from numbered
where event_order = 1
