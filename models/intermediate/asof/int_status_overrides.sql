-- Game-time decisions as worlds (live cutoff only; docs/features.md, "Game-time decision worlds").
-- The GTD players of a live (game, team) are its feature rows whose injury status at the cutoff (the
-- int_features rule: the non-superseded as-of row) is QUESTIONABLE or DOUBTFUL, ranked by roll_mean_10
-- desc (no history last), then player_id; ranks 1..3 are kept (K <= 3). The team-game gets the 2^K worlds
-- scenario_id 0 .. 2^K - 1: bit r - 1 set = the GTD player of rank r is OUT, clear = cleared (AVAILABLE).
-- One row per (world, GTD player) with the status he has in that world; int_features applies it as a
-- status override to the same SQL that builds the as-reported rows.
with

gtd as (

    select
        targets.cutoff_kind,
        targets.game_id,
        targets.team_id,
        targets.player_id,
        row_number() over (
            partition by targets.cutoff_kind, targets.game_id, targets.team_id
            order by {{ stable_double('rolling.roll_mean_10') }} desc nulls last, targets.player_id
        ) as gtd_rank
    from {{ ref('int_label_targets') }} as targets
    inner join {{ ref('int_injury_status_asof') }} as injuries
        on targets.cutoff_kind = injuries.cutoff_kind
        and targets.game_id = injuries.game_id
        and targets.player_id = injuries.player_id
        and not injuries.is_superseded
    left join {{ ref('int_player_minutes_rolling') }} as rolling
        on targets.cutoff_kind = rolling.cutoff_kind
        and targets.game_id = rolling.game_id
        and targets.player_id = rolling.player_id
        and targets.team_id = rolling.team_id
    where targets.cutoff_kind = 'live'
        and injuries.status in ('QUESTIONABLE', 'DOUBTFUL')

),

kept as (

    select
        gtd.*,
        count(*) over (partition by cutoff_kind, game_id, team_id) as gtd_count
    from gtd
    where gtd_rank <= 3

),

-- every (world, rank) of up to 3 GTD players: is_out = bit rank - 1 of scenario_id
world_bits as (

    {% for scenario_id in range(8) -%}
    {%- for rank in range(1, 4) -%}
    select {{ scenario_id }} as scenario_id, {{ rank }} as gtd_rank, {{ (scenario_id // 2 ** (rank - 1)) % 2 }} as is_out
    {%- if not (loop.last and scenario_id == 7) %} union all {% endif %}
    {% endfor -%}
    {%- endfor %}

)

select
    kept.cutoff_kind,
    kept.game_id,
    kept.team_id,
    cast(world_bits.scenario_id as bigint) as scenario_id,
    kept.player_id,
    cast(kept.gtd_rank as bigint) as gtd_rank,
    cast(kept.gtd_count as bigint) as gtd_count,
    case when world_bits.is_out = 1 then 'OUT' else 'AVAILABLE' end as scenario_status
from kept
inner join world_bits
    on kept.gtd_rank = world_bits.gtd_rank
    and world_bits.scenario_id < case kept.gtd_count when 1 then 2 when 2 then 4 else 8 end
