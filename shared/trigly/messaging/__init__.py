"""Messaging: the one send path every journey, campaign and `POST /v1/messages` goes through."""
