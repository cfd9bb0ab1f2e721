"""Which action may move a case from which stage, and who may take it.

Pure data and checks; ``core.dispatch.service`` carries the actions out.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.enums import Role
from core.dispatch.enums import Action, Stage
from core.tickets.enums import TicketStatus

# The call centre: takes reports in, verifies and registers them.
CENTRE = frozenset({Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
DISPATCHERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
DEPARTMENTS = frozenset({Role.DEPARTMENT, Role.SUPERVISOR, Role.ADMIN})
INSPECTORS = frozenset({Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Stage]
    # None: the stage does not change (an extension request).
    target: Stage | None
    roles: frozenset[Role]
    needs_reason: bool = False


TRANSITIONS: dict[Action, Transition] = {
    Action.REGISTER: Transition(frozenset({Stage.ACCEPTED}), Stage.REGISTERED, CENTRE),
    Action.CANCEL: Transition(
        frozenset({Stage.ACCEPTED, Stage.REGISTERED}), Stage.CANCELLED, CENTRE, True
    ),
    Action.DISPATCH: Transition(
        frozenset({Stage.REGISTERED, Stage.RETURNED}), Stage.DISPATCHED, DISPATCHERS
    ),
    Action.START: Transition(
        frozenset({Stage.DISPATCHED, Stage.REWORK}), Stage.HANDLING, DEPARTMENTS
    ),
    Action.RETURN: Transition(
        frozenset({Stage.DISPATCHED, Stage.HANDLING}), Stage.RETURNED, DEPARTMENTS, True
    ),
    Action.REPORT: Transition(
        frozenset({Stage.DISPATCHED, Stage.HANDLING, Stage.REWORK}),
        Stage.REPORTED,
        DEPARTMENTS,
        True,
    ),
    Action.VERIFY_PASS: Transition(frozenset({Stage.REPORTED}), Stage.CLOSED, INSPECTORS),
    Action.VERIFY_FAIL: Transition(frozenset({Stage.REPORTED}), Stage.REWORK, INSPECTORS, True),
    Action.PARK: Transition(
        frozenset({Stage.DISPATCHED, Stage.HANDLING, Stage.REWORK}),
        Stage.PARKED,
        DISPATCHERS,
        True,
    ),
    Action.UNPARK: Transition(frozenset({Stage.PARKED}), Stage.HANDLING, DISPATCHERS),
    Action.REQUEST_EXTENSION: Transition(
        frozenset({Stage.DISPATCHED, Stage.HANDLING, Stage.REWORK}), None, DEPARTMENTS, True
    ),
}

# The generic ticket status each stage shows outside dispatch (and to Open311 clients).
STATUS_OF_STAGE: dict[Stage, TicketStatus] = {
    Stage.ACCEPTED: TicketStatus.NEW,
    Stage.REGISTERED: TicketStatus.NEW,
    Stage.CANCELLED: TicketStatus.REJECTED,
    Stage.DISPATCHED: TicketStatus.ASSIGNED,
    Stage.HANDLING: TicketStatus.IN_PROGRESS,
    Stage.RETURNED: TicketStatus.ON_HOLD,
    Stage.PARKED: TicketStatus.ON_HOLD,
    Stage.REPORTED: TicketStatus.RESOLVED,
    Stage.REWORK: TicketStatus.REOPENED,
    Stage.CLOSED: TicketStatus.CLOSED,
    Stage.MERGED: TicketStatus.ON_HOLD,
}


class IllegalAction(ValueError):
    """An action the case's stage does not allow; the message says why."""


class NotAllowed(PermissionError):
    """The caller's role may not take this action."""


def check(action: Action, stage: Stage, role: Role, reason: str | None) -> Transition:
    """Returns the transition for ``action`` from ``stage``, or raises why it is refused."""
    transition = TRANSITIONS[action]
    if role not in transition.roles:
        raise NotAllowed(f"the role {role} may not {action} a case")
    if stage not in transition.sources:
        allowed = ", ".join(sorted(transition.sources))
        raise IllegalAction(f"cannot {action} a case that is {stage} (only when {allowed})")
    if transition.needs_reason and not (reason or "").strip():
        raise IllegalAction(f"{action} needs a reason")
    return transition


def actions_for(stage: Stage, role: Role) -> list[Action]:
    """Returns the actions a role may take on a case in ``stage`` (for the console)."""
    return [
        action
        for action, transition in TRANSITIONS.items()
        if stage in transition.sources and role in transition.roles
    ]
