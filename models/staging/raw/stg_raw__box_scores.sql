with

source as (

    {{ latest_row(source('raw', 'box_scores'), ['content_hash'], 'ingested_at asc') }}

),

renamed as (

    select
        cast(game_id as bigint) as game_id,
        source_game_id,
        season,
        cast(game_date as date) as game_date,
        lower(trim(game_type)) as game_type,
        cast(team_id as bigint) as team_id,
        cast(opponent_team_id as bigint) as opponent_team_id,
        cast(is_home as boolean) as is_home,
        cast(player_id as bigint) as player_id,
        source_player_id,
        player_name,
        cast(starter as boolean) as is_starter,
        lower(trim(play_status)) as play_status,
        dnp_reason,
        cast(seconds_played as integer) as seconds_played,
        cast(minutes as double) as minutes,
        cast(overtimes as integer) as overtimes,
        cast(fga as integer) as fga,
        cast(fta as integer) as fta,
        cast(orb as integer) as orb,
        cast(tov as integer) as tov,
        cast(pts as integer) as pts,
        cast(trb as integer) as trb,
        cast(ast as integer) as ast,
        cast(blk as integer) as blk,
        cast(fg3a as integer) as fg3a,
        {{ raw_audit_columns() }}

    from source

)

select * from renamed
