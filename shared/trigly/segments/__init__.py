"""Segments: conditions over the analytics view, membership for journeys (CONTRACT §6)."""
