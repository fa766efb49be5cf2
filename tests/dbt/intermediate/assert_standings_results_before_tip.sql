-- Standings read only results known at the cutoff, which lies before the game's tip: the team's games that
-- tip at or after this game (games_left) can never have a known result, so they are all undecided.
-- A failure means a result from this game or a later one leaked into the standings.
select cutoff_kind, game_id, team_id, games_left, undecided_games
from {{ ref('int_team_standings_asof') }}
where undecided_games is not null
    and games_left > undecided_games
