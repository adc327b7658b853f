"""The car's life as dates: next maintenance, tyre seasons, renewals and anniversaries (pure)."""
