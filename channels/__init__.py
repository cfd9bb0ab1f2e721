"""The channel contract, the sender registry, the console sender and per-channel templates."""
