-- The worlds of each live (game, team) with game-time-decision players (int_status_overrides): scenario_id
-- -1 (the as-reported world, what the marts features_minutes_v1[_live] read) and 0 .. 2^K - 1, with the K
-- GTD player ids in rank order and those OUT in the world (comma-separated; '' = none). int_features left
-- joins it: a team-game without GTD players has only its as-reported rows (scenario_id -1).
with

overrides as (

    select * from {{ ref('int_status_overrides') }}

),

worlds as (

    select
        cutoff_kind,
        game_id,
        team_id,
        scenario_id,
        concat_ws(
            ',',
            cast(max(case when gtd_rank = 1 then player_id end) as {{ string_type() }}),
            cast(max(case when gtd_rank = 2 then player_id end) as {{ string_type() }}),
            cast(max(case when gtd_rank = 3 then player_id end) as {{ string_type() }})
        ) as scenario_gtd_player_ids,
        coalesce(concat_ws(
            ',',
            cast(max(case when gtd_rank = 1 and scenario_status = 'OUT' then player_id end) as {{ string_type() }}),
            cast(max(case when gtd_rank = 2 and scenario_status = 'OUT' then player_id end) as {{ string_type() }}),
            cast(max(case when gtd_rank = 3 and scenario_status = 'OUT' then player_id end) as {{ string_type() }})
        ), '') as scenario_out_player_ids
    from overrides
    group by cutoff_kind, game_id, team_id, scenario_id

)

select cutoff_kind, game_id, team_id, scenario_id, scenario_gtd_player_ids, scenario_out_player_ids
from worlds
union all
select distinct
    cutoff_kind,
    game_id,
    team_id,
    cast(-1 as bigint) as scenario_id,
    cast(null as {{ string_type() }}) as scenario_gtd_player_ids,
    cast(null as {{ string_type() }}) as scenario_out_player_ids
from overrides
