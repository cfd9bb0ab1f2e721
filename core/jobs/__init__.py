"""Background work on SAQ: outbox delivery, the outbox sweep and the SLA escalation clock."""
