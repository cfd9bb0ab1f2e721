"""After-commit effects: what a transaction wants done once its rows are durable, and only then.

Services say what should follow a change (deliver these outbox rows, run this job, wake the
live streams) by registering an effect on the database session they write with. The effects
wait in ``session.info``; when the outermost transaction commits they run, and when it rolls
back they are dropped, so no worker is ever handed a row that does not exist and no stream is
woken for a change that never happened. No view writes these steps by hand (Warehouse's
``addAfterCommitHook`` is the model).

How it runs with ``AsyncSession``: SQLAlchemy's session events are synchronous and fire
inside the greenlet that runs the session's work. The ``after_commit`` listener therefore
awaits the effects with ``await_`` (formerly ``await_only``: the documented way to call
async code from a session or pool event under asyncio), so ``await session.commit()`` (or
leaving ``async with session.begin()``) returns only once the effects have run. That keeps
the order the hand-written code had (commit, enqueue, answer), needs no background task to
track, and lets a test assert on the queue or the stream right after the commit. The effects
themselves never raise: an unreachable queue only logs, and the periodic sweeps catch up.

Savepoints: an effect belongs to the innermost transaction open when it was registered; a
rolled-back savepoint drops its own effects and keeps the others, and only the commit of
the outermost transaction runs them (``after_commit`` also fires when a savepoint is
released, which is why the listener checks that no nested transaction is left).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

logger = logging.getLogger("hub.events")

# The topic every ticket change wakes: the live streams (core.events.stream) listen on it.
TOPIC_TICKETS = "tickets"
# The topic outbox deliveries wake: the simulator follows its replies' delivery on it.
TOPIC_OUTBOX = "outbox"
# Frames for one staff member's streams only (a call for them), carried whole.
TOPIC_PERSONAL = "personal"
# "This ballot's tally changed" (its id only): the console's live tally re-reads it.
TOPIC_BALLOTS = "ballots"
_KEY = "hub.after_commit"


@dataclass(frozen=True)
class Deliver:
    """Hand these committed outbox rows to the delivery queue."""

    outbox_ids: tuple[int, ...]
    bulk: bool = False
    delay: float | None = None


@dataclass(frozen=True)
class Job:
    """Enqueue a named background job (de-duplicated by its key)."""

    function: str
    key: str
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Wake:
    """Tell live streams that something on ``topic`` changed; they read what from the table."""

    topic: str


@dataclass(frozen=True)
class Announce:
    """Publish ``payload`` on ``topic`` (ids only, nothing personal) once committed."""

    topic: str
    payload: tuple[tuple[str, int], ...]


Effect = Deliver | Job | Wake | Announce


class EffectRunner(Protocol):
    """What runs the effects of a commit: the process's hub (core.runtime.Hub)."""

    async def run_effects(self, effects: Sequence[Effect]) -> None: ...


@dataclass
class _Pending:
    # (the transaction the effect was registered in, or None before any began; the effect)
    effects: list[tuple[SessionTransaction | None, Effect]] = field(default_factory=list)


def _sync(db_session: AsyncSession | Session) -> Session:
    return db_session.sync_session if isinstance(db_session, AsyncSession) else db_session


def _register(db_session: AsyncSession | Session, effect: Effect) -> None:
    session = _sync(db_session)
    pending: _Pending = session.info.setdefault(_KEY, _Pending())
    transaction = session.get_nested_transaction() or session.get_transaction()
    if isinstance(effect, Wake) and (transaction, effect) in pending.effects:
        return  # one wake-up per topic and transaction is enough: the streams read the table
    pending.effects.append((transaction, effect))


def deliver_after_commit(
    db_session: AsyncSession | Session,
    outbox_ids: Iterable[int],
    *,
    bulk: bool = False,
    delay: float | None = None,
) -> None:
    """Registers outbox rows to hand to the delivery queue once the transaction commits."""
    ids = tuple(outbox_ids)
    if ids:
        _register(db_session, Deliver(ids, bulk=bulk, delay=delay))
    _register(db_session, Wake(TOPIC_OUTBOX))


def enqueue_after_commit(
    db_session: AsyncSession | Session, function: str, *, key: str, **kwargs: Any
) -> None:
    """Registers a background job to enqueue once the transaction commits."""
    _register(db_session, Job(function, key, kwargs))


def announce_after_commit(db_session: AsyncSession | Session, topic: str, **ids: int) -> None:
    """Registers an announcement (``ids`` only) on ``topic`` once the transaction commits."""
    _register(db_session, Announce(topic, tuple(sorted(ids.items()))))


def wake_after_commit(db_session: AsyncSession | Session, topic: str = TOPIC_TICKETS) -> None:
    """Registers a wake-up of the live streams on ``topic`` once the transaction commits."""
    _register(db_session, Wake(topic))


def pending_effects(db_session: AsyncSession | Session) -> list[Effect]:
    """Returns the effects waiting for this session's commit, oldest first."""
    pending: _Pending | None = _sync(db_session).info.get(_KEY)
    return [effect for _, effect in pending.effects] if pending else []


def merged(effects: Sequence[Effect]) -> list[Effect]:
    """Returns the effects with deliveries of one kind joined and repeated ones dropped.

    A back-office step that wrote ten replies hands the queue one batch, and a commit that
    appended twenty events wakes each stream once.
    """
    batches: dict[tuple[bool, float | None], list[int]] = {}
    others: list[Effect] = []
    for effect in effects:
        if isinstance(effect, Deliver):
            batches.setdefault((effect.bulk, effect.delay), []).extend(effect.outbox_ids)
        elif effect not in others:
            others.append(effect)
    deliveries: list[Effect] = [
        Deliver(tuple(dict.fromkeys(ids)), bulk=bulk, delay=delay)
        for (bulk, delay), ids in batches.items()
    ]
    return deliveries + others


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    """Whether ``transaction`` is ``ended`` or one of the savepoints opened inside it."""
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def install(session_class: type[Session], runner: EffectRunner) -> None:
    """Runs the effects of every session of ``session_class`` after its commit, via ``runner``.

    Each hub's session factory has a Session class of its own (core.db), so a hub only runs
    the effects of its own sessions.
    """

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released: the outer transaction may still roll back
        pending: _Pending | None = session.info.pop(_KEY, None)
        if pending is None or not pending.effects:
            return
        effects = merged([effect for _, effect in pending.effects])
        if in_greenlet():
            try:
                await_(runner.run_effects(effects))
            except Exception:
                # The rows are committed; what failed here the sweeps pick up.
                logger.exception("after-commit effects failed")
            return
        # A plain synchronous Session (a script, a migration): run them on the loop if any.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            logger.warning("%d after-commit effects dropped: no event loop", len(effects))
            return
        task = loop.create_task(runner.run_effects(effects))
        _background.add(task)
        task.add_done_callback(_background.discard)

    def after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
        pending: _Pending | None = session.info.get(_KEY)
        if pending is None:
            return
        if previous_transaction.parent is None:
            session.info.pop(_KEY, None)
            return
        pending.effects = [
            (transaction, effect)
            for transaction, effect in pending.effects
            if not _inside(transaction, previous_transaction)
        ]

    def after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        # A session closed without commit or rollback (its transaction just ends): whatever
        # it registered never became durable.
        if transaction.parent is None and not transaction.nested:
            session.info.pop(_KEY, None)

    event.listen(session_class, "after_commit", after_commit)
    event.listen(session_class, "after_soft_rollback", after_soft_rollback)
    event.listen(session_class, "after_transaction_end", after_transaction_end)


# Effects of synchronous sessions scheduled on the loop, kept so they are not collected early.
_background: set[asyncio.Task[None]] = set()
