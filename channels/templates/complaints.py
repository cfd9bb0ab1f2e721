"""What residents hear about their complaint, and what companies hear from the authority.

SMS cuts the company's answer and the authority's finding so a message stays within a
few segments; other channels carry them whole. Companies are written to by SMS only.
"""

from __future__ import annotations

from core.i18n import gettext

TEMPLATES = (
    "complaint_received",
    "complaint_answered",
    "complaint_verdict_help",
    "complaint_resolved",
    "complaint_escalated",
    "complaint_dismissed",
    "complaint_upheld",
    "complaint_rectified",
    "complaint_for_company",
    "order_for_company",
    "score_pre_deduction",
    "score_appeal_decided",
)
SMS_NOTE_LIMIT = 160


def _note(channel: str, note: object) -> str:
    text = " ".join(str(note or "").split())
    if channel == "sms" and len(text) > SMS_NOTE_LIMIT:
        return text[: SMS_NOTE_LIMIT - 1].rstrip() + "…"
    return text


def complaint_received(
    channel: str, language: str, *, number: str, company: str, respond_by: str, **_: object
) -> str:
    return gettext(
        language,
        "Complaint {number} is registered and passed to {company}, who must answer by "
        "{respond_by}.",
        number=number,
        company=company,
        respond_by=respond_by,
    )


def complaint_answered(
    channel: str, language: str, *, number: str, company: str, answer: object, **_: object
) -> str:
    return gettext(
        language,
        "{company} answered complaint {number}: {answer} Reply YES if it is solved, or NO "
        "and what is still wrong.",
        number=number,
        company=company,
        answer=_note(channel, answer),
    )


def complaint_verdict_help(channel: str, language: str, *, number: str, **_: object) -> str:
    return gettext(
        language,
        "Is complaint {number} solved? Reply YES, or NO and what is still wrong.",
        number=number,
    )


def complaint_resolved(channel: str, language: str, *, number: str, **_: object) -> str:
    return gettext(language, "Complaint {number} is closed. Thank you.", number=number)


def complaint_escalated(channel: str, language: str, *, number: str, **_: object) -> str:
    return gettext(
        language,
        "The housing authority will inspect complaint {number} and tell you what it finds.",
        number=number,
    )


def complaint_dismissed(
    channel: str, language: str, *, number: str, finding: object, **_: object
) -> str:
    return gettext(
        language,
        "The housing authority inspected complaint {number} and did not uphold it: {finding}",
        number=number,
        finding=_note(channel, finding),
    )


def complaint_upheld(channel: str, language: str, *, number: str, due: str, **_: object) -> str:
    return gettext(
        language,
        "The housing authority upheld complaint {number} and ordered the company to put it "
        "right by {due}.",
        number=number,
        due=due,
    )


def complaint_rectified(channel: str, language: str, *, number: str, **_: object) -> str:
    return gettext(
        language,
        "The problem in complaint {number} has been put right and checked by the housing "
        "authority.",
        number=number,
    )


def complaint_for_company(
    channel: str, language: str, *, number: str, estate: str, respond_by: str, **_: object
) -> str:
    return gettext(
        language,
        "New complaint {number} about {estate}. Answer by {respond_by}.",
        number=number,
        estate=estate,
        respond_by=respond_by,
    )


def order_for_company(channel: str, language: str, *, order: str, due: str, **_: object) -> str:
    return gettext(
        language,
        "Rectification order {order} issued: put it right by {due}.",
        order=order,
        due=due,
    )


def score_pre_deduction(
    channel: str, language: str, *, points: str, rule: str, appeal_by: str, **_: object
) -> str:
    return gettext(
        language,
        "Pre-deduction notice: {points} points for {rule}. You may appeal with evidence by "
        "{appeal_by}.",
        points=points,
        rule=rule,
        appeal_by=appeal_by,
    )


def score_appeal_decided(
    channel: str, language: str, *, points: str, decision: str, **_: object
) -> str:
    return gettext(
        language,
        "Your appeal against the deduction of {points} points: {decision}.",
        points=points,
        decision=gettext(language, f"appeal:{decision}"),
    )


def render(channel: str, notice: str, language: str, **values: object) -> str:
    """Returns a complaints notice's text for ``channel``."""
    template = globals()[notice] if notice in TEMPLATES else None
    if template is None:
        raise KeyError(notice)
    return str(template(channel, language, **values))
