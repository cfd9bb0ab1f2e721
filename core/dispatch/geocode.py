"""Address → point through the gazetteer, for reports that come without coordinates.

A pensioner texts "мусор у Ленина 5" with no map; a kiosk user picks a street. Buildings
(their registered addresses) are the most precise, then landmarks, then streets, then
communities. The longest name found in the text wins within a kind, so "Lenin Street 15"
is not read as "Lenin Street 1".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dispatch.enums import GazetteerKind
from core.dispatch.models import GazetteerEntry
from core.territory.models import Building

_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)
# Rank of each kind of match: a building's own address beats a landmark, and so on.
_RANK = {"building": 4, GazetteerKind.LANDMARK: 3, GazetteerKind.STREET: 2}
_RANK_DEFAULT = 1


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    kind: str
    name: str
    building_id: int | None = None


def fold(text: str) -> str:
    """Returns text folded for matching: NFKC, case-folded, punctuation as single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " " + _PUNCTUATION.sub(" ", folded).strip() + " "


@lru_cache(maxsize=4096)
def _pattern(needle: str) -> re.Pattern[str]:
    """Returns a pattern for a folded name that tolerates word endings.

    Russian inflects names: "Поющий фонтан" is written "у Поющего фонтана". Each word of
    two letters or more keeps its stem (all but its last two letters when it is long) and
    may take up to three more letters; numbers must match exactly, so house 1 is not 15.
    """
    parts = []
    for word in needle.split():
        if word.isdigit() or len(word) < 3:
            parts.append(re.escape(word))
        else:
            stem = word[:-2] if len(word) >= 5 else word
            parts.append(re.escape(stem) + r"\w{0,3}")
    return re.compile(r"(?<!\w)" + r"\W+".join(parts) + r"(?!\w)")


def _contains(haystack: str, needle: str) -> bool:
    """Whether the folded name occurs in the folded text as whole (possibly inflected) words.

    Chinese has no spaces: a bare substring is the best we can do, and a Chinese address
    ends in 号, which keeps 1号 from matching 15号.
    """
    core = needle.strip()
    if not core:
        return False
    if any("\u4e00" <= ch <= "\u9fff" for ch in core):
        return core.replace(" ", "") in haystack.replace(" ", "")
    return _pattern(core).search(haystack) is not None


async def geocode(*, db_session: AsyncSession, text: str) -> Place | None:
    """Returns the most precise place named in ``text``, or None."""
    haystack = fold(text)
    if not haystack.strip():
        return None
    best: tuple[int, int, Place] | None = None

    def consider(rank: int, name: str, place: Place) -> None:
        nonlocal best
        needle = fold(name)
        if _contains(haystack, needle):
            score = (rank, len(needle.strip()))
            if best is None or score > best[:2]:
                best = (*score, place)

    for building in await db_session.scalars(
        select(Building).where(Building.latitude.is_not(None), Building.longitude.is_not(None))
    ):
        for address in (building.addresses or {}).values():
            place = Place(
                float(building.latitude or 0),
                float(building.longitude or 0),
                "building",
                address,
                building.id,
            )
            consider(_RANK["building"], address, place)
    for entry in await db_session.scalars(select(GazetteerEntry)):
        rank = _RANK.get(entry.kind, _RANK_DEFAULT)
        for name in [*(entry.names or {}).values(), *(entry.aliases or [])]:
            consider(rank, name, Place(entry.latitude, entry.longitude, entry.kind, name))
    return best[2] if best else None
