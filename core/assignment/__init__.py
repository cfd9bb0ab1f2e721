"""Agents available or away, and the fair queue that hands out conversations."""
