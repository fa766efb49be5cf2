"""Live sources: fetch NBA.com JSON, the league's injury-report PDFs and an odds feed into raw-store rows.

Entry point: `sources.live_extracts(kind, date, run_as_of_ts, config)` -> list of `Extract`s for the
ingest engine (it persists each payload, then calls `parse`). Data flow:

    http_client (timeouts, retries, rate limit, SourceError)
      -> report_discovery (injury-report slots and URLs, PDF check) -> injury_report_pdf (geometry parser)
         -> injury_rows (raw "injuries" rows) -> player_matching (names -> roster player ids)
      -> nba_schedule / nba_roster / nba_boxscore (NBA.com JSON -> raw rows, via nba_json helpers)
      -> odds_provider (OddsProvider protocol + JsonOddsProvider)
"""
