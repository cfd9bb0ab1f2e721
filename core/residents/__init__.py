"""Residents and the contacts (phones, Telegram ids, …) that lead to them."""
