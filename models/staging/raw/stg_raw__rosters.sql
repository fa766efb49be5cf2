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
        {{ raw_audit_columns() }}

    from source

)

select * from renamed
