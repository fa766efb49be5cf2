-- seeds/teams.csv: 30 teams, 15 in each conference (the standings rank within a conference).
select conference, count(*) as teams
from {{ ref('teams') }}
group by conference
having count(*) <> 15
