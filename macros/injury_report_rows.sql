{#-
  The injury-report rows a player's status is selected from (int_injury_status_asof, and the previous team
  game's listing in int_status_listing_context): player rows only (NOT YET SUBMITTED team rows and unmatched
  names cannot feed a player), game_id resolved through the schedule by (game_date, team_id) when the row
  has none. One definition, so both read the same report.
-#}
{% macro injury_report_rows() -%}
select
    coalesce(injuries.game_id, game_teams.game_id) as game_id,
    injuries.player_id,
    injuries.team_id,
    injuries.player_name,
    injuries.status_raw,
    injuries.status,
    injuries.reason,
    injuries.snapshot_ts,
    injuries.ingested_at,
    injuries.content_hash
from (
    select * from {{ ref('stg_raw__injuries') }}
    where player_id is not null and is_player_status
) as injuries
left join (
    select game_id, game_date, home_team_id as team_id from {{ ref('int_games') }}
    union all
    select game_id, game_date, away_team_id as team_id from {{ ref('int_games') }}
) as game_teams
    on injuries.game_id is null
    and injuries.team_id = game_teams.team_id
    and injuries.game_date = game_teams.game_date
{%- endmacro %}

{#- is_superseded of an as-of selection (`selected`: asof_select output): the team has a newer qualifying
    report on which the player no longer appears, so he is not on the report. -#}
{% macro injury_is_superseded() -%}
snapshot_ts < max(snapshot_ts) over (partition by cutoff_kind, game_id, team_id)
{%- endmacro %}
