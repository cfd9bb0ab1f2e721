"""The installed channels, listed once: the composition root reads this tuple and nothing
else decides which channels exist.

Adding a channel is its package exporting one ``ChannelSpec`` and one line here. Only
composition roots import this module (portal/app.py, the ``hub`` command's worker, tests):
the core is handed the registry and never imports a channel package.
"""

from __future__ import annotations

from collections.abc import Mapping

from channels.contract import Sender
from channels.registry import ChannelRegistry
from channels.spec import ChannelSpec
from core.config import Settings
from portal import channels as portal_channels
from portal.simulator import channels as simulated
from sms.channel import SMS

INSTALLED: tuple[ChannelSpec, ...] = (
    SMS,
    simulated.TELEGRAM,
    simulated.VOICE,
    *portal_channels.SPECS,
)


def registry(settings: Settings, *, senders: Mapping[str, Sender] | None = None) -> ChannelRegistry:
    """Returns the installed channels for ``settings``; ``senders`` replaces some senders."""
    return ChannelRegistry(INSTALLED, settings=settings, senders=senders)
