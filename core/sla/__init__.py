"""The SLA clock: due times on a working calendar, and escalation of what is overdue."""
