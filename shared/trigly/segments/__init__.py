"""Segments: the condition language of CONTRACT §6 (`conditions`); the SQL that evaluates it over
the analytics view lives with the rest of the analytics SQL in `trigly.analytics.sql`."""
