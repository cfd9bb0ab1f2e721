"""Words people read about a ticket: its status, its back office, who acted, what changed.

Codes (``dispatch``, ``staff:8``, ``in_progress``) stay in the data and in the staff API's
own fields; everything here is what a person reads, in their language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.i18n import gettext, pgettext, pick_name
from core.tickets.enums import EventKind, TicketStatus


def N_(message: str) -> str:  # noqa: N802 (the conventional no-op gettext marker)
    return message


def NP_(context: str, message: str) -> str:  # noqa: N802 (marks a message with a context)
    return message


# The context names the noun a status word describes, so a language with grammatical
# gender can make it agree: Russian "обращение" is neuter ("новое", "закрыто").
REQUEST_STATUS = "status of a request"
_STATUS_WORDS: dict[TicketStatus, str] = {
    TicketStatus.NEW: NP_("status of a request", "new"),
    TicketStatus.ASSIGNED: NP_("status of a request", "assigned"),
    TicketStatus.IN_PROGRESS: NP_("status of a request", "in progress"),
    TicketStatus.ON_HOLD: NP_("status of a request", "waiting for your answer"),
    TicketStatus.RESOLVED: NP_("status of a request", "resolved"),
    TicketStatus.CLOSED: NP_("status of a request", "closed"),
    TicketStatus.REJECTED: NP_("status of a request", "rejected"),
    TicketStatus.REOPENED: NP_("status of a request", "reopened"),
}

LABELS = (
    N_("back_office:general"),
    N_("back_office:billing"),
    N_("back_office:dispatch"),
    N_("back_office:complaints"),
    N_("back_office:votes"),
    N_("role:agent"),
    N_("role:dispatcher"),
    N_("role:department"),
    N_("role:inspector"),
    N_("role:supervisor"),
    N_("role:admin"),
    N_("role:company"),
    N_("role:committee"),
    N_("complaint_stage:triage"),
    N_("complaint_stage:with_company"),
    N_("complaint_stage:answered"),
    N_("complaint_stage:authority"),
    N_("complaint_stage:rectifying"),
    N_("complaint_stage:resolved"),
    N_("complaint_stage:dismissed"),
)


def status_word(language: str, status: str) -> str:
    """Returns a ticket status as words that agree with "request" in ``language``."""
    return pgettext(language, REQUEST_STATUS, _STATUS_WORDS[TicketStatus(status)])


def back_office_name(language: str, back_office: str) -> str:
    """Returns the name of a back office people read instead of its code."""
    return gettext(language, f"back_office:{back_office}")


@dataclass(frozen=True)
class Names:
    """What the ids in a ticket's events stand for, looked up once per ticket."""

    # staff id -> (display name, role)
    staff: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    # API key id -> its name
    api_keys: Mapping[int, str] = field(default_factory=dict)
    # department id -> names per language
    departments: Mapping[int, Mapping[str, str]] = field(default_factory=dict)


def actor_ids(actor: str) -> tuple[str, int | None]:
    """Returns ("staff" | "apikey" | the actor itself, id or None) from an event's actor."""
    kind, _, number = actor.partition(":")
    return (kind, int(number)) if number.isdigit() else (actor, None)


def actor_name(language: str, actor: str, names: Names, *, public: bool) -> str:
    """Returns who acted: a role for the public, a name and a role for staff; never an id."""
    kind, number = actor_ids(actor)
    if kind == "staff" and number is not None and number in names.staff:
        display, role = names.staff[number]
        role_name = gettext(language, f"role:{role}")
        return role_name if public else f"{display} ({role_name})"
    if kind == "staff":
        return gettext(language, "City staff")
    if kind == "apikey":
        if public or number is None or number not in names.api_keys:
            return gettext(language, "Partner system")
        return str(names.api_keys[number])
    if kind == "resident":
        return gettext(language, "Resident")
    return gettext(language, "Hub (automatic)")


def _department(language: str, names: Names, department_id: Any) -> str | None:
    found = names.departments.get(department_id) if isinstance(department_id, int) else None
    return pick_name(dict(found), language) if found else None


def stage_name(language: str, back_office: str, stage: str) -> str:
    """Returns the name of a back office's workflow stage (dispatch or complaints)."""
    prefix = "complaint_stage" if back_office == "complaints" else "stage"
    return gettext(language, f"{prefix}:{stage}")


def describe_event(
    language: str, kind: str, data: Mapping[str, Any], *, back_office: str, names: Names
) -> str:
    """Returns what an event changed, in words ("Status: new → in progress")."""
    # Named ``field``, not ``_``: the message extractor reads field("…") as text to translate.
    field = data.get
    channel = gettext(language, f"channel:{field('channel')}") if field("channel") else ""
    if kind == EventKind.CREATED:
        return gettext(language, "Request registered ({channel})", channel=channel)
    if kind == EventKind.ROUTED and field("geocoded"):
        return gettext(language, "Place found: {place}", place=str(field("geocoded"))[:200])
    department = _department(language, names, field("department_id"))
    if kind == EventKind.ROUTED:
        office = back_office_name(language, str(field("back_office") or back_office))
        if department:
            return gettext(
                language,
                "Sent to {office}; handled by {department}",
                office=office,
                department=department,
            )
        return gettext(language, "Sent to {office}", office=office)
    if kind == EventKind.STATUS_CHANGED:
        return gettext(
            language,
            "Status: {previous} → {status}",
            previous=status_word(language, str(field("previous"))),
            status=status_word(language, str(field("status"))),
        )
    if kind in (EventKind.ASSIGNED, EventKind.STAGE_CHANGED) and department:
        return gettext(language, "Handed to {department}", department=department)
    if kind == EventKind.STAGE_CHANGED:
        stage = stage_name(language, back_office, str(field("stage")))
        if not field("previous"):
            return gettext(language, "Stage: {stage}", stage=stage)
        previous = stage_name(language, back_office, str(field("previous")))
        return gettext(language, "Stage: {previous} → {stage}", previous=previous, stage=stage)
    return _describe_other(language, kind, data, channel)


def _describe_other(language: str, kind: str, data: Mapping[str, Any], channel: str) -> str:
    if kind == EventKind.MESSAGE_IN:
        return gettext(language, "Message from the resident ({channel})", channel=channel)
    if kind == EventKind.MESSAGE_OUT:
        return gettext(language, "Reply sent ({channel})", channel=channel)
    if kind == EventKind.DELIVERY:
        if data.get("status") == "failed":
            return gettext(language, "A reply could not be delivered")
        return gettext(language, "A reply is being sent again")
    if kind == EventKind.ESCALATED:
        return gettext(
            language, "Overdue: passed to a supervisor (level {level})", level=data.get("level", 1)
        )
    if kind == EventKind.EXTENSION:
        decided = data.get("decided")
        if decided == "approved":
            return gettext(language, "More time granted")
        if decided == "refused":
            return gettext(language, "More time refused")
        return gettext(language, "More time requested")
    if kind == EventKind.MERGED:
        return gettext(
            language, "Report {number} joined this request", number=str(data.get("joined", ""))
        )
    return gettext(language, f"event:{kind}")
