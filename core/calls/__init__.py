"""Calls to the hotline as the console sees them: records, and events for one agent."""
