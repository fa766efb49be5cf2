{#-
  THE as-of rule (docs/features.md "the one time rule"; docs/architecture.md), used by every snapshot kind.

  snapshots : relation/CTE with snapshot_ts, ingested_at, content_hash, game_id and the partition columns
  cutoffs   : relation/CTE with one row per (cutoff_kind, game_id): cutoff_ts (see int_game_cutoffs)
  partition_by : snapshot columns identifying "one state" (e.g. ['game_id', 'player_id'])
  max_age_column : run_context column holding this kind's maximum age in whole minutes (e.g.
                   'injuries_max_age_minutes', from the run parameter injuries_max_age_hours)

  A snapshot row qualifies for a game's cutoff iff
      snapshot_ts <= cutoff_ts  and  cutoff_ts - snapshot_ts <= max_age_hours
  (applied in whole minutes: fractional hours such as 1.5 are exact, see max_age_minutes_var).
  Among qualifying rows of a partition the newest wins; ties are broken deterministically by
      snapshot_ts desc, ingested_at desc (the later stored copy), content_hash asc.
  Output: the snapshot columns plus cutoff_kind, cutoff_ts, tip_ts and max_age_hours.
-#}
{% macro asof_select(snapshots, cutoffs, partition_by, max_age_column) -%}
{%- set max_age_minutes = run_value(max_age_column) -%}
{%- set partition_cols = [] -%}
{%- for col in partition_by %}{% do partition_cols.append('asof_snapshots.' ~ col) %}{% endfor -%}
{{ latest_row(
    '(select asof_snapshots.*, asof_cutoffs.cutoff_kind, asof_cutoffs.cutoff_ts, asof_cutoffs.tip_ts, '
        ~ '(' ~ max_age_minutes ~ ' / 60.0e0) as max_age_hours'
        ~ ' from ' ~ snapshots ~ ' as asof_snapshots'
        ~ ' inner join ' ~ cutoffs ~ ' as asof_cutoffs on asof_snapshots.game_id = asof_cutoffs.game_id'
        ~ ' where asof_snapshots.snapshot_ts <= asof_cutoffs.cutoff_ts'
        ~ ' and asof_snapshots.snapshot_ts >= ' ~ ts_minus('asof_cutoffs.cutoff_ts', max_age_minutes, 'minute')
        ~ ')',
    ['cutoff_kind'] + partition_by,
    'snapshot_ts desc, ingested_at desc, content_hash asc') }}
{%- endmacro %}
