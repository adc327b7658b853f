"""Events Trigly sends back to the dealer's systems (CONTRACT §2b), signed like inbound ones."""
