{#- Label sanity: each team-game's minutes sum lies in [min_minutes, max_minutes]
    (240 regulation, +25 per overtime; `tolerance` (1 minute) absorbs source rounding of per-player seconds: one real 2017 game sums to 239.33). -#}
{% test team_minutes_between(model, column_name, min_minutes=240, max_minutes=340, tolerance=1.0,
                             group_by=['game_id', 'team_id']) %}
select {{ group_by | join(', ') }}, sum({{ column_name }}) as team_minutes
from {{ model }}
where {{ column_name }} is not null
group by {{ group_by | join(', ') }}
having sum({{ column_name }}) < {{ min_minutes }} - {{ tolerance }}
    or sum({{ column_name }}) > {{ max_minutes }} + {{ tolerance }}
{% endtest %}
