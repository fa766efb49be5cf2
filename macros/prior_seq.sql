{#-
  Where a cutoff sits in the stored history (models/intermediate/history): prior_seq = the seq of the newest
  history row whose available_ts <= cutoff_ts (the one time rule; docs/features.md), found with a running max
  of seq over the time-ordered union of history rows and cutoffs instead of a range join. At equal instants
  history rows sort first (the <= rule). The player version is int_player_history_pointers; these macros are
  the two shapes read more than once.
-#}

{#-
  The feature rows (int_label_targets) with their player's pointer (int_player_history_pointers.seq as
  prior_seq): cutoff_kind, game_id, player_id, team_id, season, game_date, cutoff_ts, prior_seq.
  Used by int_player_minutes_rolling and int_status_listing_context (the history rows prior_seq - n + 1 ..
  prior_seq are a row's last n games).
    targets  : ref('int_label_targets')
    pointers : ref('int_player_history_pointers')
-#}
{% macro targets_with_prior_seq(targets, pointers) -%}
    select
        targets.cutoff_kind,
        targets.game_id,
        targets.player_id,
        targets.team_id,
        targets.season,
        targets.game_date,
        targets.cutoff_ts,
        pointers.seq as prior_seq
    from {{ targets }} as targets
    inner join {{ pointers }} as pointers
        on targets.player_id = pointers.player_id
        and targets.game_id = pointers.game_id
        and targets.team_id = pointers.team_id
        and targets.cutoff_kind = pointers.cutoff_kind
{%- endmacro %}

{#-
  Every row of `cutoff_teams` with prior_seq: the seq of the team's newest `history` row available at the
  cutoff (null = none). Used by int_team_context_prior (both teams of each cutoff game, int_team_history) and
  int_team_standings_asof (every team of the season at each cutoff, int_team_standings_history).
    cutoff_teams : relation / CTE with one row per (cutoff_kind, game_id, team_id) and cutoff_ts
    history      : relation / CTE with team_id, game_id, available_ts, seq (the team's history numbering)
-#}
{% macro teams_with_prior_seq(cutoff_teams, history) -%}
    select cutoff_teams.*, numbered.prior_seq
    from {{ cutoff_teams }} as cutoff_teams
    inner join (
        select
            events.*,
            max(seq) over (
                partition by team_id
                order by event_ts, event_order, game_id, cutoff_kind
                rows between unbounded preceding and current row
            ) as prior_seq
        from (
            select team_id, game_id, available_ts as event_ts, 0 as event_order,
                cast(null as {{ string_type() }}) as cutoff_kind, seq
            from {{ history }}
            union all
            select team_id, game_id, cutoff_ts as event_ts, 1 as event_order, cutoff_kind, cast(null as bigint) as seq
            from {{ cutoff_teams }}
        ) as events
    ) as numbered
        on cutoff_teams.team_id = numbered.team_id
        and cutoff_teams.game_id = numbered.game_id
        and cutoff_teams.cutoff_kind = numbered.cutoff_kind
        and numbered.event_order = 1
{%- endmacro %}
