"""The hourly tick: what fell due since the last tick, read by time and queued, never scanned."""
