"""Bulk onboarding: a dealer's customer base from CSV or JSON Lines, through the webhook path.

Readers turn a file into contract events (CONTRACT §2): JSON Lines carry them as they are; CSV
rows (one customer + car + last visit, as dealers export them) are mapped to `customer.upserted`,
`vehicle.registered` or `vehicle.sold`, and `service_order.closed` with deterministic ids, so
running the same file again yields duplicates only. Every event then takes the webhook's path
(`ingest.intake.accept_events`: validation, claim by id, ingest queue); a dry run classifies the
same events without writing. See docs/imports.md.
"""
