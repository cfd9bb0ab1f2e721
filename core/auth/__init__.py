"""Staff accounts, API keys, roles and territorial scope."""
