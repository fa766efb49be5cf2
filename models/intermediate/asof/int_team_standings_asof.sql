-- Conference standings and rest pattern per (cutoff_kind, game, team) for both teams of every cutoff game,
-- point-in-time: a game's result counts only when its box score was available at the cutoff
-- (available_ts <= cutoff_ts), the rule of int_team_context_prior, with the same pointer (macro
-- teams_with_prior_seq: running max of the history seq over the time-ordered union of history rows and cutoffs),
-- here for every team of the season at every cutoff (standings need the whole conference).
-- Regular season of the game's season only. Scheduled games come from the schedule known at the run
-- (int_games; postponed states excluded). Decisions and the flag rules: docs/features.md.
with

cutoffs as (

    select * from {{ ref('int_game_cutoffs') }}

),

games as (

    select * from {{ ref('int_games') }}
    where game_type = 'regular'
        and game_status <> 'postponed'

),

teams as (

    select team_id, conference from {{ ref('teams') }}

),

team_schedule as (

    select season, game_id, tip_ts, home_team_id as team_id from games
    union all
    select season, game_id, tip_ts, away_team_id as team_id from games

),

season_teams as (

    select season, team_id, count(*) as scheduled_games
    from team_schedule
    group by season, team_id

),

-- every cutoff x every team with a regular-season game in the cutoff game's season
cutoff_league as (

    select
        cutoffs.cutoff_kind,
        cutoffs.game_id,
        cutoffs.season,
        cutoffs.cutoff_ts,
        season_teams.team_id,
        season_teams.scheduled_games
    from cutoffs
    inner join season_teams on cutoffs.season = season_teams.season

),

history as (

    select * from {{ ref('int_team_standings_history') }}
    where team_id in (select cutoff_league.team_id from cutoff_league)

),

league_pointers as (

    {{ teams_with_prior_seq('cutoff_league', 'history') }}

),

records as (

    select
        league_pointers.cutoff_kind,
        league_pointers.game_id,
        league_pointers.team_id,
        teams.conference,
        league_pointers.scheduled_games,
        case when history.season = league_pointers.season then history.season_reg_wins else 0 end as wins,
        case when history.season = league_pointers.season then history.season_reg_losses else 0 end as losses,
        case when history.season = league_pointers.season and history.season_games_10 > 0
            then cast(history.season_rest_games_10 as double) / history.season_games_10 end as rest_rate_10g
    from league_pointers
    left join history
        on league_pointers.team_id = history.team_id
        and league_pointers.prior_seq = history.seq
    left join teams on league_pointers.team_id = teams.team_id

),

standings as (

    select
        records.*,
        case when wins + losses > 0 then cast(wins as double) / (wins + losses) end as win_pct,
        -- games not decided at the cutoff: scheduled, without a known result (this game included)
        greatest(scheduled_games - wins - losses, 0) as undecided,
        -- final win % bounds: lose every undecided game / win every one
        cast(wins as double) / greatest(scheduled_games, wins + losses) as min_final_pct,
        cast(wins + greatest(scheduled_games - wins - losses, 0) as double)
            / greatest(scheduled_games, wins + losses) as max_final_pct
    from records
    where conference is not null

),

ranked as (

    select
        standings.*,
        row_number() over (
            partition by cutoff_kind, game_id, conference
            order by coalesce(win_pct, 0.5e0) desc, wins - losses desc, team_id
        ) as conference_rank
    from standings

),

seed_lines as (

    select
        cutoff_kind,
        game_id,
        conference,
        max(case when conference_rank = 6 then wins - losses end) as diff_6th,
        max(case when conference_rank = 10 then wins - losses end) as diff_10th
    from ranked
    group by cutoff_kind, game_id, conference

),

game_teams as (

    select cutoff_kind, game_id, season, tip_ts, home_team_id as team_id from cutoffs
    union all
    select cutoff_kind, game_id, season, tip_ts, away_team_id as team_id from cutoffs

),

-- the game's teams against every other team of their conference at the same cutoff
rivals as (

    select
        own.cutoff_kind,
        own.game_id,
        own.team_id,
        count(*) as others,
        -- others that could still finish at or above the team's worst case
        sum(case when other.max_final_pct >= own.min_final_pct then 1 else 0 end) as can_reach,
        -- others surely ahead (their worst case beats the team's best) / surely behind
        sum(case when other.min_final_pct > own.max_final_pct then 1 else 0 end) as surely_ahead,
        sum(case when other.max_final_pct < own.min_final_pct then 1 else 0 end) as surely_behind
    from ranked as own
    inner join game_teams
        on own.cutoff_kind = game_teams.cutoff_kind
        and own.game_id = game_teams.game_id
        and own.team_id = game_teams.team_id
    inner join ranked as other
        on own.cutoff_kind = other.cutoff_kind
        and own.game_id = other.game_id
        and own.conference = other.conference
        and own.team_id <> other.team_id
    group by own.cutoff_kind, own.game_id, own.team_id

),

games_left as (

    select
        game_teams.cutoff_kind,
        game_teams.game_id,
        game_teams.team_id,
        count(team_schedule.game_id) as games_left
    from game_teams
    left join team_schedule
        on game_teams.team_id = team_schedule.team_id
        and game_teams.season = team_schedule.season
        and team_schedule.tip_ts >= game_teams.tip_ts
    group by game_teams.cutoff_kind, game_teams.game_id, game_teams.team_id

)

select
    game_teams.cutoff_kind,
    game_teams.game_id,
    game_teams.team_id,
    ranked.conference,
    ranked.wins as team_wins,
    ranked.losses as team_losses,
    ranked.win_pct as team_win_pct,
    ranked.conference_rank,
    (seed_lines.diff_6th - (ranked.wins - ranked.losses)) / 2.0e0 as games_behind_6th,
    (seed_lines.diff_10th - (ranked.wins - ranked.losses)) / 2.0e0 as games_behind_10th,
    games_left.games_left,
    ranked.undecided as undecided_games,
    case when rivals.can_reach <= 5 then 1 when rivals.others is not null then 0 end as clinched_playoff,
    case when rivals.surely_ahead >= 10 then 1 when rivals.others is not null then 0 end as eliminated,
    case when rivals.surely_ahead + rivals.surely_behind = rivals.others then 1
         when rivals.others is not null then 0 end as seed_locked,
    ranked.rest_rate_10g as team_rest_rate_10g
from game_teams
inner join games_left
    on game_teams.cutoff_kind = games_left.cutoff_kind
    and game_teams.game_id = games_left.game_id
    and game_teams.team_id = games_left.team_id
left join ranked
    on game_teams.cutoff_kind = ranked.cutoff_kind
    and game_teams.game_id = ranked.game_id
    and game_teams.team_id = ranked.team_id
left join seed_lines
    on ranked.cutoff_kind = seed_lines.cutoff_kind
    and ranked.game_id = seed_lines.game_id
    and ranked.conference = seed_lines.conference
left join rivals
    on game_teams.cutoff_kind = rivals.cutoff_kind
    and game_teams.game_id = rivals.game_id
    and game_teams.team_id = rivals.team_id
