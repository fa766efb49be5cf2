-- How well does the stat-profile position rule (used when a roster has no listed_pos, i.e. real data)
-- agree with listed positions? Run on a store with listed positions (synthetic league):
--   dbt compile --select pos_bucket_agreement, then run the compiled SQL against the warehouse.
-- Same thresholds as int_features (keep in sync): last 82 prior eligible games, >= 150 minutes,
-- BIG if rebounds >= 9.5 or blocks >= 1.5 per 36, G if assists >= 4.5 per 36, else W.
with

targets as (

    select pointers.cutoff_kind, pointers.game_id, pointers.player_id, pointers.team_id, pointers.seq
    from {{ ref('int_player_history_pointers') }} as pointers
    where not pointers.is_history and pointers.cutoff_kind = 'gold'

),

profiled as (

    select
        targets.game_id,
        targets.player_id,
        targets.team_id,
        case
            when history.profile_minutes >= 150 and (36.0 * history.profile_trb / history.profile_minutes >= 9.5
                                                      or 36.0 * history.profile_blk / history.profile_minutes >= 1.5) then 'BIG'
            when history.profile_minutes >= 150 and 36.0 * history.profile_ast / history.profile_minutes >= 4.5 then 'G'
            when history.profile_minutes >= 150 then 'W'
            else 'UNK'
        end as profile_bucket
    from targets
    left join {{ ref('int_player_history') }} as history
        on targets.player_id = history.player_id and targets.seq = history.seq

),

listed as (

    select
        game_id, player_id, team_id,
        case
            when listed_pos like '%C%' or listed_pos like '%PF%' then 'BIG'
            when listed_pos like '%F%' then 'W'
            when listed_pos like '%G%' then 'G'
        end as listed_bucket
    from {{ ref('int_roster_asof') }}
    where cutoff_kind = 'gold' and listed_pos is not null

)

select
    listed.listed_bucket,
    profiled.profile_bucket,
    count(*) as player_games,
    round(100.0 * count(*) / sum(count(*)) over (partition by listed.listed_bucket), 1) as pct_of_listed
from listed
inner join profiled
    on listed.game_id = profiled.game_id and listed.player_id = profiled.player_id and listed.team_id = profiled.team_id
group by listed.listed_bucket, profiled.profile_bucket
order by listed.listed_bucket, profiled.profile_bucket
