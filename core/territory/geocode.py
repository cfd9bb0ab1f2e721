"""Address → point through the gazetteer, for reports that come without coordinates.

A pensioner texts "мусор у ул. Ленина 5" with no map; a kiosk user picks a street. Buildings
(their registered addresses) are the most precise, then landmarks, then streets, then
communities. The longest name found in the text wins within a kind, so "Lenin Street 15"
is not read as "Lenin Street 1".

A city has a hundred thousand buildings, so the text is never matched against all of them.
Every name is filed under one key (``name_key``): a word of it cut to three letters, and for
an address its house number too ("9 лен" for "ул. Ленина, 9"). A message yields every key
its words could match (``message_keys``) and only the names filed under those are read and
matched. A key is a necessary condition of a match, never a guess, so the pre-filter finds
exactly what matching every name would find.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.territory.enums import GazetteerKind
from core.territory.models import Building, GazetteerEntry, PlaceName

_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)
# Rank of each kind of match: a building's own address beats a landmark, and so on.
_RANK = {"building": 4, GazetteerKind.LANDMARK: 3, GazetteerKind.STREET: 2}
_RANK_DEFAULT = 1
# A name's house number and the word it is filed under are at most this many words apart;
# a message pairs each number only with the words this near it.
_WINDOW = 8
# Street-type words say little about which street: a name is filed under another word when
# it has one. Only how selective the key is depends on this list, never what is found.
_GENERIC = frozenset(
    (
        *("ул", "улица", "пр", "просп", "проспект", "пер", "переулок", "наб", "набережная"),
        *("пл", "площадь", "ш", "шоссе", "б", "р", "бул", "бульвар", "д", "дом", "корп"),
        *("корпус", "стр", "строение", "st", "street", "ave", "avenue", "rd", "road", "ln"),
        *("lane", "sq", "square", "blvd", "boulevard", "embankment", "house", "building"),
    )
)
# A Chinese name's house number is keyed only this many characters into the name.
_CJK_WINDOW = 16
_DIGITS = re.compile(r"\d+")
# Keys per statement: within SQLite's oldest limit on bound parameters.
_KEYS_PER_QUERY = 500
# Above this many candidate names, matching runs in a worker thread, off the event loop.
_MATCH_INLINE_MAX = 200


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


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _word_key(word: str) -> str:
    # Every pattern word of three letters or more starts with its first three letters, and
    # a shorter one must match whole (see _pattern).
    return word if len(word) < 3 else word[:3]


def name_key(name: str) -> str | None:
    """Returns the key a name is filed under ("<number> <word>"), or None if it has none.

    A Chinese name is matched as a substring, so its first two characters are the key. Any
    other name is filed under its most telling word (not a street-type word, the longest)
    and, when it has one near that word, its last house number.
    """
    core = fold(name).strip()
    if not core:
        return None
    if _has_cjk(core):
        # The house number counts only where characters close it on both sides ("街17号"):
        # then the text holds exactly that run of digits, not a longer one.
        compact = core.replace(" ", "")
        runs = [
            m.group()[:20]
            for m in _DIGITS.finditer(compact)
            if 0 < m.start() < _CJK_WINDOW and m.end() < len(compact)
        ]
        return f"{runs[-1] if runs else ''} {compact[:2]}"
    words = core.split()
    lettered = [(i, w) for i, w in enumerate(words) if not w.isdigit()]
    if not lettered:
        return f"{words[-1][:20]} "
    at, anchor = max(lettered, key=lambda item: (item[1] not in _GENERIC, len(item[1])))
    numbers = [w[:20] for i, w in enumerate(words) if w.isdigit() and abs(i - at) < _WINDOW]
    return f"{numbers[-1] if numbers else ''} {_word_key(anchor)}"


def message_keys(haystack: str) -> set[str]:
    """Returns every key a name found in the folded text could be filed under."""
    words = haystack.split()
    numbers = [(i, w[:20]) for i, w in enumerate(words) if w.isdigit()]
    keys = {f"{number} " for _, number in numbers}
    for i, word in enumerate(words):
        if word.isdigit():
            continue
        key = _word_key(word)
        keys.add(f" {key}")
        keys.update(f"{number} {key}" for j, number in numbers if abs(i - j) < _WINDOW)
    if _has_cjk(haystack):
        compact = haystack.replace(" ", "")
        keys.update(" " + compact[n : n + 2] for n in range(len(compact) - 1))
        keys.update(" " + ch for ch in compact if _has_cjk(ch))
        for m in _DIGITS.finditer(compact):
            run = m.group()[:20]
            starts = range(max(0, m.start() - _CJK_WINDOW + 1), m.start())
            keys.update(f"{run} {compact[n : n + 2]}" for n in starts)
    return keys


_CANDIDATES = (
    select(
        PlaceName.name,
        PlaceName.language,
        PlaceName.building_id,
        Building.latitude,
        Building.longitude,
        GazetteerEntry.kind,
        GazetteerEntry.names,
        GazetteerEntry.latitude,
        GazetteerEntry.longitude,
    )
    .outerjoin(Building, Building.id == PlaceName.building_id)
    .outerjoin(GazetteerEntry, GazetteerEntry.id == PlaceName.gazetteer_id)
    .order_by(PlaceName.id)
)


def _place_of(row: Sequence[Any]) -> tuple[int, Place] | None:
    """Returns the rank and place a candidate name stands for, or None if it has no point."""
    name, language, building_id, b_lat, b_lon, kind, names, g_lat, g_lon = row
    if building_id is not None:
        if b_lat is None or b_lon is None:
            return None
        return _RANK["building"], Place(float(b_lat), float(b_lon), "building", name, building_id)
    if kind is None:
        return None
    # An alias is shown as the place's own name in the alias's language ("station" →
    # "Railway Station"): a ticket's address reads as a name, not as the resident wrote it.
    shown = (names or {}).get(language or "") or name
    return _RANK.get(kind, _RANK_DEFAULT), Place(float(g_lat), float(g_lon), kind, shown)


def _best(haystack: str, rows: Iterable[Row[Any]]) -> Place | None:
    """Returns the most precise place among candidate names found in the folded text."""
    best: tuple[int, int, Place] | None = None
    for row in rows:
        needle = fold(row[0])
        if not _contains(haystack, needle):
            continue
        ranked = _place_of(row)
        if ranked is None:
            continue
        score = (ranked[0], len(needle.strip()))
        if best is None or score > best[:2]:
            best = (*score, ranked[1])
    return best[2] if best else None


async def geocode(*, db_session: AsyncSession, text: str) -> Place | None:
    """Returns the most precise place named in ``text``, or None."""
    haystack = fold(text)
    if not haystack.strip():
        return None
    keys = sorted(message_keys(haystack))
    rows: list[Row[Any]] = []
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk: Sequence[str] = keys[start : start + _KEYS_PER_QUERY]
        rows.extend(await db_session.execute(_CANDIDATES.where(PlaceName.key.in_(chunk))))
    if len(rows) > _MATCH_INLINE_MAX:
        # Matching is pure CPU: in a thread the loop keeps serving other requests meanwhile.
        return await asyncio.to_thread(_best, haystack, rows)
    return _best(haystack, rows)
