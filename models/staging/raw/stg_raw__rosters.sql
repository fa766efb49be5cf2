with

source as (

    {{ latest_row(source('raw', 'roster'), ['content_hash'], 'ingested_at asc') }}

),

renamed as (

    select
        cast(game_date as date) as game_date,
        cast(game_id as bigint) as game_id,
        cast(team_id as bigint) as team_id,
        upper(trim(team_tricode)) as team_tricode,
        cast(player_id as bigint) as player_id,
        source_player_id,
        player_name,
        cast(active_flag as boolean) as active_flag,
        nullif(lower(trim(lineup_role)), '') as lineup_role,
        nullif(upper(trim(listed_pos)), '') as listed_pos,
        cast(snapshot_ts as timestamp with time zone) as snapshot_ts,
        cast(ingested_at as timestamp with time zone) as ingested_at,
        run_id,
        source as source_name,
        content_hash

    from source

)

select * from renamed
