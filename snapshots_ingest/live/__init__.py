"""snapshots_ingest/live"""
