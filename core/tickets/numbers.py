"""Public ticket numbers: digits only (easy to say on the phone) with a Luhn check digit."""

from __future__ import annotations

import unicodedata

# Ids are 32-bit integers in the database; a longer number cannot be a ticket.
MAX_ID = 2**31 - 1


def _luhn_digit(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def format_public_number(ticket_id: int) -> str:
    """Returns the public number for a ticket id, e.g. 42 → ``0000428``."""
    body = f"{ticket_id:06d}"
    return f"{body}{_luhn_digit(body)}"


def parse_public_number(text: str) -> int | None:
    """Returns the ticket id for a public number, or None if it is malformed or mistyped."""
    # NFKC turns full-width digits (typed on Chinese keyboards) into ASCII ones.
    text = unicodedata.normalize("NFKC", text)
    digits = "".join(ch for ch in text if not ch.isspace() and ch not in "-#№")
    if not digits.isascii() or not digits.isdigit() or len(digits) < 7 or len(digits) > 19:
        return None
    body, check = digits[:-1], int(digits[-1])
    if _luhn_digit(body) != check or int(body) > MAX_ID:
        return None
    return int(body)
