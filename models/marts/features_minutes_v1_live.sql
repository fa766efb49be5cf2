-- Live features for target_date at run_as_of_ts (cutoff least(run_as_of_ts, tip_ts)); empty when target_date is unset.
-- Same model as the gold mart (int_features), other cutoff. Contract: _marts__models.yml.
with

features as (

    select * from {{ ref('int_features') }}
    where cutoff_kind = 'live'
        and scenario_id = -1  -- the injury report as reported (worlds: features_minutes_v1_live_scenarios)

)

select
    {{ features_minutes_v1_columns() }}
from features
