"""Every workflow action has a handler: an action added to the enum without one would
otherwise pass `check` and then fail with a KeyError on a staff member's click."""

from core.dispatch.actions import _HANDLERS
from core.dispatch.enums import Action


def test_every_action_has_a_handler() -> None:
    assert set(_HANDLERS) == set(Action)
