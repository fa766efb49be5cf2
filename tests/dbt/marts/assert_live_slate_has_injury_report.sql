-- A live slate with games but not one qualifying injury-report row means the injury feed failed.
-- Fails unless run parameter allow_missing_injuries is true. (Per-game gaps are normal: reports list only
-- injured players; see coverage in the run summary.)
{{ config(tags=['live']) }}
select cutoffs.game_id, 'no qualifying injury-report row for the slate' as problem
from {{ ref('int_game_cutoffs') }} as cutoffs
where cutoffs.cutoff_kind = 'live'
    and not {{ run_value('allow_missing_injuries') }}
    and not exists (select 1 from {{ ref('int_injury_status_asof') }} as i where i.cutoff_kind = 'live')
