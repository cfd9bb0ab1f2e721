"""The committee writes a ballot's draft in the console: the building, the title and the
questions in the ballot's language, the rule set, each question's matter, and the dates.
The votes service checks it against the rule set (notice and voting periods, matters,
the SMS length) exactly as it does for the API; a refusal is shown beside the form."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from core.db import utcnow
from core.votes import ballots
from core.votes.rules import rule_sets
from core.votes.schemas import BallotIn
from core.votes.service import MANAGE_ROLES, BallotNotFound, BallotRefused, NotAllowed
from core.web.deps import HubDep, SessionDep
from portal.console.auth import Staff, allow
from portal.console.pages import page

router = APIRouter(prefix="/console/ballots", include_in_schema=False)
ManagerDep = Annotated[Staff, Depends(allow(*MANAGE_ROLES))]
Field = Annotated[str, Form(max_length=200)]
Long = Annotated[str, Form(max_length=4000)]


def _choices(language: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Every rule set (value "code edition") with its matters, named in ``language``."""
    return [
        (
            f"{code} {edition}",
            rule.names.get(language) or rule.names.get("en", code),
            [(m, matter.names.get(language) or m) for m, matter in rule.matters.items()],
        )
        for (code, edition), rule in sorted(rule_sets().items())
    ]


def _form(request: Request, staff: Staff, status_code: int = 200, **values: Any) -> Response:
    return page(
        request,
        staff,
        "console/votes/form.html",
        rules=_choices(staff.language),
        form=values,
        status_code=status_code,
    )


@router.get("/new", response_class=HTMLResponse)
async def new_ballot(request: Request, staff: ManagerDep) -> Response:
    """An empty draft form."""
    return _form(request, staff)


def _moment(value: str, timezone: str) -> datetime:
    """A datetime-local field, on the city's clock."""
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(timezone))


def _draft(fields: dict[str, str], timezone: str) -> BallotIn:
    """Builds the ballot from the form; raises ValueError (or ValidationError) on bad input."""
    rules, _, matter = fields["rules"].partition("|")
    code, _, edition = rules.partition(" ")
    language = fields["language"]
    questions = [line.strip() for line in fields["questions"].splitlines() if line.strip()]
    return BallotIn(
        scope="building",
        building=fields["building"].strip(),
        titles={language: fields["title"].strip()},
        language=language,
        rule_set=code,
        edition=edition or None,
        notice_at=_moment(fields["notice_at"], timezone),
        opens_at=_moment(fields["opens_at"], timezone),
        closes_at=_moment(fields["closes_at"], timezone),
        questions=[{"texts": {language: text}, "matter": matter} for text in questions],
        confirm_long=fields.get("confirm_long") == "yes",
    )


@router.post("", response_class=HTMLResponse)
async def create(
    request: Request,
    hub: HubDep,
    db_session: SessionDep,
    staff: ManagerDep,
    building: Field = "",
    language: Annotated[str, Form(max_length=8)] = "ru",
    title: Field = "",
    questions: Long = "",
    rules: Field = "",
    confirm_long: Annotated[str, Form(max_length=8)] = "",
    notice_at: Field = "",
    opens_at: Field = "",
    closes_at: Field = "",
) -> Response:
    """Writes the draft; the committee then publishes it from the ballot's page."""
    fields = {
        "building": building,
        "language": language,
        "title": title,
        "questions": questions,
        "rules": rules,
        "confirm_long": confirm_long,
        "notice_at": notice_at,
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    try:
        draft = _draft(fields, hub.settings.timezone)
        ballot = await ballots.create_ballot(
            db_session=db_session,
            principal=staff.principal,
            data=draft,
            now=utcnow(),
            max_parts=hub.settings.sms_max_parts,
            timezone=hub.settings.timezone,
        )
    except ValidationError as exc:
        await db_session.rollback()
        reason = "; ".join(str(e.get("msg", "")) for e in exc.errors()[:3])
        return _form(request, staff, 422, error=reason, **fields)
    except (ValueError, KeyError, BallotRefused, BallotNotFound, NotAllowed) as exc:
        await db_session.rollback()
        return _form(request, staff, 422, error=str(exc)[:300], **fields)
    await db_session.commit()
    return RedirectResponse(f"/console/ballots/{ballot.id}", 303)
