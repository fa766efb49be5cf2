"""`minutes-live watch`: one long-lived process per slate day (clock, sources, alerts, warm dbt, the loop)."""
