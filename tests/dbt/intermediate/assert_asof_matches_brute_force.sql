-- The as-of macro (window ranking) must select exactly what a brute-force reading of the rule selects:
-- a qualifying row (snapshot_ts <= cutoff, cutoff - snapshot_ts <= max age) for which no other
-- qualifying row of the same (cutoff, game, player) ranks higher under
-- (snapshot_ts desc, ingested_at desc, content_hash asc). Checked for injuries and odds.
with

cutoffs as (select * from {{ ref('int_game_cutoffs') }}),

injuries as (
    select coalesce(i.game_id, g.game_id) as game_id, i.player_id, i.snapshot_ts, i.ingested_at, i.content_hash
    from {{ ref('stg_raw__injuries') }} as i
    left join (
        select game_id, game_date, home_team_id as team_id from {{ ref('int_games') }}
        union all
        select game_id, game_date, away_team_id as team_id from {{ ref('int_games') }}
    ) as g on i.game_id is null and i.team_id = g.team_id and i.game_date = g.game_date
    where i.player_id is not null and i.is_player_status
),

injury_qualifying as (
    select c.cutoff_kind, c.cutoff_ts, i.*
    from injuries as i
    inner join cutoffs as c on i.game_id = c.game_id
    where i.snapshot_ts <= c.cutoff_ts
        and i.snapshot_ts >= {{ ts_minus('c.cutoff_ts', run_value('injuries_max_age_minutes'), 'minute') }}
),

injury_expected as (
    select q.cutoff_kind, q.game_id, q.player_id, q.content_hash
    from injury_qualifying as q
    where not exists (
        select 1 from injury_qualifying as better
        where better.cutoff_kind = q.cutoff_kind and better.game_id = q.game_id and better.player_id = q.player_id
            and (better.snapshot_ts > q.snapshot_ts
                 or (better.snapshot_ts = q.snapshot_ts and better.ingested_at > q.ingested_at)
                 or (better.snapshot_ts = q.snapshot_ts and better.ingested_at = q.ingested_at
                     and better.content_hash < q.content_hash))
    )
),

injury_actual as (
    select cutoff_kind, game_id, player_id, content_hash from {{ ref('int_injury_status_asof') }}
),

odds_qualifying as (
    select c.cutoff_kind, o.game_id, o.snapshot_ts, o.ingested_at, o.content_hash
    from {{ ref('stg_raw__odds') }} as o
    inner join cutoffs as c on o.game_id = c.game_id
    where o.snapshot_ts <= c.cutoff_ts
        and o.snapshot_ts >= {{ ts_minus('c.cutoff_ts', run_value('odds_max_age_minutes'), 'minute') }}
),

odds_expected as (
    select q.cutoff_kind, q.game_id, cast(null as bigint) as player_id, q.content_hash
    from odds_qualifying as q
    where not exists (
        select 1 from odds_qualifying as better
        where better.cutoff_kind = q.cutoff_kind and better.game_id = q.game_id
            and (better.snapshot_ts > q.snapshot_ts
                 or (better.snapshot_ts = q.snapshot_ts and better.ingested_at > q.ingested_at)
                 or (better.snapshot_ts = q.snapshot_ts and better.ingested_at = q.ingested_at
                     and better.content_hash < q.content_hash))
    )
),

odds_actual as (
    select cutoff_kind, game_id, cast(null as bigint) as player_id, content_hash from {{ ref('int_odds_asof') }}
),

expected as (
    select 'injuries' as kind, * from injury_expected
    union all
    select 'odds' as kind, * from odds_expected
),

actual as (
    select 'injuries' as kind, * from injury_actual
    union all
    select 'odds' as kind, * from odds_actual
)

select 'missing_from_macro' as problem, * from (select * from expected except select * from actual) as missing
union all
select 'extra_in_macro' as problem, * from (select * from actual except select * from expected) as extra
