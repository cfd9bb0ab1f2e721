"""The intake pipeline: every inbound message from every channel enters the core here."""
