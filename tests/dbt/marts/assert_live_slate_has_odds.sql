-- A live slate with games but not one qualifying odds row means the odds feed failed (or the run is
-- earlier than any line). Fails unless run parameter allow_missing_odds is true.
{{ config(tags=['live']) }}
select cutoffs.game_id, 'no qualifying odds row for the slate' as problem
from {{ ref('int_game_cutoffs') }} as cutoffs
where cutoffs.cutoff_kind = 'live'
    and not {{ run_value('allow_missing_odds') }}
    and not exists (select 1 from {{ ref('int_odds_asof') }} as o where o.cutoff_kind = 'live')
