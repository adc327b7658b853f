"""Campaigns (CONTRACT §6): one-off or scheduled sends to a segment's members, through the one
send path (messaging.service), fanned out in pages through the journey queue."""
