"""The hub's core: intake, residents, territory, tickets, routing, SLA, outbox and back offices."""
