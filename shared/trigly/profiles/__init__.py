"""Customer profiles: identity, contacts, consents and the 360° view."""
