"""The console sender: the embedded default, delivering to the log and to the simulator."""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable

from channels.contract import Reply, SendResult
from core.config import Settings
from core.residents.service import mask_address

logger = logging.getLogger("hub.console_sender")


class ConsoleSender:
    """Accepts every message at once; the outbox row is what the simulator shows."""

    def __init__(self, channel: str, history: int = 1000) -> None:
        self.channel = channel
        # Kept for the operator's eyes and the conformance test, bounded so it cannot grow.
        self.delivered: deque[tuple[str, Reply]] = deque(maxlen=history)
        self._by_key: dict[str, str] = {}

    async def send(self, reply: Reply, *, idempotency_key: str) -> SendResult:
        """Delivers to the log; the same idempotency key returns the same provider id."""
        if idempotency_key in self._by_key:
            return SendResult(provider_message_id=self._by_key[idempotency_key])
        provider_id = f"console-{uuid.uuid4().hex[:16]}"
        self._by_key[idempotency_key] = provider_id
        self.delivered.append((provider_id, reply))
        logger.info(
            "%s to %s (%s): %d chars",
            reply.channel,
            mask_address(reply.address),
            reply.language,
            len(reply.text),
        )
        return SendResult(provider_message_id=provider_id)


def console_sender(channel: str) -> Callable[[Settings], ConsoleSender]:
    """Returns a sender factory for ``channel`` that always builds the console sender."""

    def build(_settings: Settings) -> ConsoleSender:
        return ConsoleSender(channel)

    return build
