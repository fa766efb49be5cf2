with

source as (

    {{ latest_row(source('raw', 'injuries'), ['content_hash'], 'ingested_at asc') }}

),

status_vocabulary as (

    select * from {{ ref('injury_status_vocabulary') }}

),

renamed as (

    select
        cast(source.game_date as date) as game_date,
        cast(source.game_id as bigint) as game_id,
        source.game_time_et,
        source.matchup,
        cast(source.team_id as bigint) as team_id,
        upper(trim(source.team_tricode)) as team_tricode,
        cast(source.player_id as bigint) as player_id,
        source.source_player_id,
        source.player_name,
        source.status_raw,
        -- unknown status text maps to UNK (kept, never guessed)
        coalesce(status_vocabulary.status, 'UNK') as status,
        coalesce(status_vocabulary.is_player_status, false) as is_player_status,
        source.reason,
        cast(source.snapshot_ts as {{ timestamptz_type() }}) as snapshot_ts,
        cast(source.ingested_at as {{ timestamptz_type() }}) as ingested_at,
        source.run_id,
        source.source as source_name,
        source.content_hash

    from source
    left join status_vocabulary
        on upper(trim({{ regex_replace_all('source.status_raw', '\\s+', ' ') }})) = status_vocabulary.status_raw_key

)

select * from renamed
