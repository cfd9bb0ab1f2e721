"""Ticket events after commit: the effects a commit sets off, and the live event stream."""
