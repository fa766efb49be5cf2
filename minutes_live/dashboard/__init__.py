"""The operator dashboard's page: served by `minutes-live serve` / `minutes-live dashboard` (minutes_live.api,
which also carries pin / unpin) and written by `--static DIR` as self-contained HTML files. Read-only.

    freshness.py   snapshot ages vs the warn / fail thresholds, and the colour rule
    drift.py       the next-day validation log (drift.jsonl), the drift alert rule, the inline SVG chart
    explain.py     per-player LightGBM pred_contrib of the bundle's q50 model
    diffing.py     the diff against the previous run (minutes_live.runs.diff when present, else a plain diff)
    model.py       everything one page shows, as plain data
    render.py      server-side HTML (inline CSS and JS from assets/, data embedded as JSON)
    static.py      the static writer (`--static DIR`)
    browser.py     headless Chromium for the browser tests and the page measurements
"""
