{#- Every team of every game in `games_model` has at least `min_players` rows in the model whose status
    is not OUT (a plausible active roster). min_players defaults to run parameter min_active_roster; 0 disables. -#}
{% test min_available_per_team(model, games_model, games_where='true', status_column='status', min_players=none) %}
{%- set threshold = min_players if min_players is not none else run_value('min_active_roster') %}
with
game_teams as (
    select game_id, home_team_id as team_id from {{ games_model }} where {{ games_where }}
    union all
    select game_id, away_team_id as team_id from {{ games_model }} where {{ games_where }}
),
counts as (
    select game_id, team_id, count(*) as available_players
    from {{ model }}
    where {{ status_column }} <> 'OUT'
    group by game_id, team_id
)
select game_teams.game_id, game_teams.team_id, coalesce(counts.available_players, 0) as available_players
from game_teams
left join counts on game_teams.game_id = counts.game_id and game_teams.team_id = counts.team_id
where {{ threshold }} > 0 and coalesce(counts.available_players, 0) < {{ threshold }}
{% endtest %}
