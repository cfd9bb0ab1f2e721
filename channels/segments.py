"""How many SMS parts a text costs: GSM-7 when it can, UCS-2 otherwise.

GSM 03.38: 160 septets in one part, 153 per part when concatenated; the extension table
characters (^{}\\[~]|€ and form feed) take two septets. Anything outside the alphabet —
Cyrillic, Chinese, most emoji — forces UCS-2: 70 characters in one part, 67 per part
(UTF-16 code units, so an emoji outside the BMP counts twice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    parts: int

    @property
    def per_part(self) -> int:
        if self.encoding == "GSM-7":
            return 160 if self.parts <= 1 else 153
        return 70 if self.parts <= 1 else 67


def count_segments(text: str) -> Segments:
    """Returns the encoding and the number of parts ``text`` is sent as."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        parts = 1 if units <= 160 else math.ceil(units / 153)
        return Segments("GSM-7", units, parts)
    units = len(text.encode("utf-16-le")) // 2
    parts = 1 if units <= 70 else math.ceil(units / 67)
    return Segments("UCS-2", units, parts)
