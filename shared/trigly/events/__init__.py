"""The inbound event catalogue of CONTRACT §2: envelope, per-type payloads, validation."""
