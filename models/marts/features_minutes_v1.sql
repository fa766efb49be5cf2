-- Gold (training / backtest) features: every historical player-game, cutoff tip_ts - gold_lead_minutes.
-- Same model as the live mart (int_features), other cutoff. Contract: _marts__models.yml.
with

features as (

    select * from {{ ref('int_features') }}
    where cutoff_kind = 'gold'
        and scenario_id = -1  -- the injury report as reported (worlds: features_minutes_v1_live_scenarios)

)

select
    {{ features_minutes_v1_columns() }}
from features
