"""Notices to groups of residents, and the topics residents subscribe to."""
