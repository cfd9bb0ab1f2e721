"""The channel simulator: play a resident on any channel without a provider account."""
