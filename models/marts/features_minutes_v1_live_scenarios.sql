-- Game-time-decision worlds of the live slate: for each live (game, team) with QUESTIONABLE / DOUBTFUL
-- players (the top K <= 3 by roll_mean_10), every world scenario_id 0 .. 2^K - 1 (bit r - 1 set = the GTD
-- player of rank r is OUT, clear = cleared, AVAILABLE), one row per player of that team: the live mart's
-- columns computed by the same int_features SQL with the GTD players' status overridden, plus the world's
-- keys. Team-games without GTD players have no rows. Contract: _marts__models.yml; docs/features.md.
with

features as (

    select * from {{ ref('int_features') }}
    where cutoff_kind = 'live'
        and scenario_id >= 0

)

select
    {{ features_minutes_v1_columns() }},
    scenario_id,
    scenario_gtd_player_ids,
    scenario_out_player_ids
from features
