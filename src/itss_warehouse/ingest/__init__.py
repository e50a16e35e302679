"""Ingest: source definitions, extraction of database and API sources, landing files as
written, and mapping their records to canonical fields in ``raw``."""
