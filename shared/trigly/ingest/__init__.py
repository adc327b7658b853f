"""Inbound events: webhook intake, the ingest queue, applying events, rejected events."""
