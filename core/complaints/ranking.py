"""The public ranking, computed once for many readers.

The ranking is read without a login, by anyone, often (16 callers got 6 answers a second
when every request recomputed every company's score). Each process keeps the last ranking
for ``ttl`` seconds. A commit in this process that touches what the ranking is made of
(score events, companies, managers, score rules and weights) forgets it at once, so whoever
records a finding sees it at the next read; other processes see it when their copy expires,
so a new finding is public everywhere within ``ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from core.complaints.integrity import Score
from core.complaints.models import Manager, PropertyCompany, ScoreEvent, ScoreRule, ScoreWeight
from core.config import Settings

if TYPE_CHECKING:
    from core.runtime import Hub

# What integrity.scores() reads; complaints, estates and contracts do not change a score.
_INPUTS: tuple[type, ...] = (PropertyCompany, Manager, ScoreEvent, ScoreRule, ScoreWeight)
_CHANGED = "ranking_inputs_changed"
_CACHE_KEY = "complaints.ranking"


def ranking_cache(hub: Hub) -> RankingCache:
    """Returns this hub's ranking cache, made (and set to watch its sessions) on first use."""
    cache = hub.caches.get(_CACHE_KEY)
    if cache is None:
        cache = RankingCache(ranking_cache_seconds(hub.settings))
        # The Session class core.db made for this hub's factory alone.
        cache.watch(hub.session_factory.kw["sync_session_class"])
        hub.caches[_CACHE_KEY] = cache
    assert isinstance(cache, RankingCache)
    return cache


def ranking_cache_seconds(settings: Settings) -> float:
    """Returns how long a process keeps the ranking (HUB_COMPLAINTS_RANKING_CACHE_SECONDS)."""
    return settings.complaints_ranking_cache_seconds


class RankingCache:
    """Holds the ranking for a few seconds; forgets it when this process changes an input."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._ranking: list[Score] | None = None
        self._loaded_at = 0.0
        # Bumped by every invalidation: a computation that began before one is not kept.
        self._generation = 0
        self._lock = asyncio.Lock()

    def _fresh(self) -> list[Score] | None:
        if self._ranking is not None and time.monotonic() - self._loaded_at < self.ttl:
            return self._ranking
        return None

    async def get(self, load: Callable[[], Awaitable[list[Score]]]) -> list[Score]:
        """Returns the cached ranking, or ``load()``'s (one caller computes, the rest wait)."""
        if self.ttl <= 0:
            return await load()
        cached = self._fresh()
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._fresh()
            if cached is not None:
                return cached
            generation, started = self._generation, time.monotonic()
            ranking = await load()
            if generation == self._generation:
                self._ranking, self._loaded_at = ranking, started
            return ranking

    def invalidate(self) -> None:
        """Forgets the ranking so the next read computes it."""
        self._ranking = None
        self._generation += 1

    def watch(self, session_class: type[Session]) -> None:
        """Invalidates after each commit of a ``session_class`` session that changed an input."""
        event.listen(session_class, "after_flush", _note_flush)
        event.listen(session_class, "do_orm_execute", _note_statement)
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_soft_rollback", _forget_note)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            self.invalidate()


def _note_flush(session: Session, _context: UOWTransaction) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, _INPUTS) for obj in changed):
        session.info[_CHANGED] = True


def _note_statement(state: ORMExecuteState) -> None:
    # Bulk UPDATE/DELETE/INSERT statements bypass the flush.
    if state.is_select:
        return
    entity: Any = state.bind_mapper.class_ if state.bind_mapper is not None else None
    if entity is not None and issubclass(entity, _INPUTS):
        state.session.info[_CHANGED] = True


def _forget_note(session: Session, previous: SessionTransaction) -> None:
    # A savepoint rolled back (an import's bad row) undoes only its own part: what the
    # outer transaction changed still commits, so its note stays.
    if not previous.nested:
        session.info.pop(_CHANGED, None)
