"""snapshots_ingest"""
