-- starter_flag must come from pre-tip information. Witness of a leak: a gold row whose starter_flag
-- differs from what the as-of roster / previous game says (recomputed here independently).
select f.game_id, f.player_id, f.team_id, f.starter_flag
from {{ ref('features_minutes_v1') }} as f
where f.starter_flag <> case
        when f.lineup_role in ('confirmed_starter', 'projected_starter') then 1
        when f.lineup_role in ('bench', 'out') then 0
        else cast(f.starter_prev_game_asof as bigint)
    end
