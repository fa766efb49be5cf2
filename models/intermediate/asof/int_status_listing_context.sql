-- Injury-listing context per feature row (int_label_targets): what status_role and status_state
-- (int_features; the role and state of the measured play-rate table, docs/features.md) are made of.
--   role_mean_15: mean minutes of the player's previous up-to-15 history rows known at the cutoff - the
--     rolling features' rule (int_player_history: played + coach's-decision DNP counted as 0 minutes, minutes
--     clipped to [0, 48], rows within history_days of the cutoff); null when there are none.
--   prior_team_game_id: his team's previous game, the latest whose box score is known at the cutoff
--     (int_team_context_prior).
--   prior_game_listed: he was on that game's injury report (a non-superseded row, status other than UNK) as
--     of that game's own cutoff tip_ts - gold_lead_minutes (the same instant for gold and live rows).
--   prior_game_played: his box-score row for his team in that game has minutes > 0.
with

targets as (

    {{ targets_with_prior_seq(ref('int_label_targets'), ref('int_player_history_pointers')) }}

),

-- the 15 most recent history rows: seq prior_seq - 14 .. prior_seq (equi-join, as int_player_minutes_rolling)
recency as (

    {% for rank in range(1, 16) -%}
    select {{ rank }} as recency_rank{% if not loop.last %} union all {% endif %}
    {%- endfor %}

),

role_window as (

    select
        targets.cutoff_kind,
        targets.game_id,
        targets.player_id,
        targets.team_id,
        avg(coalesce(history.minutes_clipped, 0)) as role_mean_15
    from targets
    cross join recency
    inner join {{ ref('int_player_history') }} as history
        on targets.player_id = history.player_id
        and history.seq = targets.prior_seq - recency.recency_rank + 1
        and history.tip_ts >= {{ ts_minus('targets.cutoff_ts', run_value('history_days'), 'day') }}
    group by targets.cutoff_kind, targets.game_id, targets.player_id, targets.team_id

),

prior_games as (

    select cutoff_kind, game_id, team_id, prior_team_game_id
    from {{ ref('int_team_context_prior') }}
    where prior_team_game_id is not null

),

-- each previous game once, at its own cutoff (the gold rule)
prior_cutoffs as (

    select distinct
        'prior' as cutoff_kind,
        games.game_id,
        games.tip_ts,
        {{ ts_minus('games.tip_ts', run_value('gold_lead_minutes'), 'minute') }} as cutoff_ts
    from {{ ref('int_games') }} as games
    where games.game_id in (select prior_games.prior_team_game_id from prior_games)

),

keyed as (

    {{ injury_report_rows() }}

),

prior_selected as (

    {{ asof_select('keyed', 'prior_cutoffs', ['game_id', 'player_id'], 'injuries_max_age_minutes') }}

),

prior_listed as (

    select distinct game_id, player_id
    from (
        select prior_selected.*, {{ injury_is_superseded() }} as is_superseded
        from prior_selected
    ) as prior_report
    where not is_superseded and status <> 'UNK'

),

box_scores as (

    select game_id, player_id, team_id, minutes from {{ ref('int_box_scores_deduped') }}

)

select
    targets.cutoff_kind,
    targets.game_id,
    targets.player_id,
    targets.team_id,
    role_window.role_mean_15,
    case when role_window.role_mean_15 >= 20 then 'rotation' else 'bench' end as status_role,
    prior_games.prior_team_game_id,
    prior_listed.player_id is not null as prior_game_listed,
    coalesce(box_scores.minutes > 0, false) as prior_game_played
from targets
left join role_window
    on targets.cutoff_kind = role_window.cutoff_kind
    and targets.game_id = role_window.game_id
    and targets.player_id = role_window.player_id
    and targets.team_id = role_window.team_id
left join prior_games
    on targets.cutoff_kind = prior_games.cutoff_kind
    and targets.game_id = prior_games.game_id
    and targets.team_id = prior_games.team_id
left join prior_listed
    on prior_games.prior_team_game_id = prior_listed.game_id
    and targets.player_id = prior_listed.player_id
left join box_scores
    on prior_games.prior_team_game_id = box_scores.game_id
    and targets.player_id = box_scores.player_id
    and targets.team_id = box_scores.team_id
