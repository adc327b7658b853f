"""Trigly: the customer data platform and marketing automation for car dealers."""
