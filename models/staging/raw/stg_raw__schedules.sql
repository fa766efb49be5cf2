with

source as (

    {{ latest_row(source('raw', 'schedule'), ['content_hash'], 'ingested_at asc') }}

),

renamed as (

    select
        cast(game_id as bigint) as game_id,
        source_game_id,
        season,
        cast(game_date as date) as game_date,
        cast(tip_ts as {{ timestamptz_type() }}) as tip_ts,
        lower(trim(game_type)) as game_type,
        lower(trim(game_status)) as game_status,
        cast(home_team_id as bigint) as home_team_id,
        cast(away_team_id as bigint) as away_team_id,
        upper(trim(home_tricode)) as home_tricode,
        upper(trim(away_tricode)) as away_tricode,
        home_team_name,
        away_team_name,
        {{ raw_audit_columns() }}

    from source

)

select * from renamed
