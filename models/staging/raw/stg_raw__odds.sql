with

source as (

    {{ latest_row(source('raw', 'odds'), ['content_hash'], 'ingested_at asc') }}

),

renamed as (

    select
        cast(game_id as bigint) as game_id,
        cast(home_team_id as bigint) as home_team_id,
        cast(away_team_id as bigint) as away_team_id,
        book,
        cast(spread_home as double) as spread_home,
        cast(total as double) as total,
        {{ raw_audit_columns() }}

    from source

)

select * from renamed
