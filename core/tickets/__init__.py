"""Tickets: one model for every request, with its thread of messages and its events."""
