"""What every web surface shares: request dependencies (the hub, a session, the caller)."""
