"""The outbox: the only way out. Every reply and notice is a row first, then delivered."""
