"""Utility billing: one account, several suppliers, meter readings and recalculations."""
