"""The console's screens and who may open them: the navigation is built from this list.

Each back office's screens add their entry here; a role sees only its own entries, and
the same roles guard the screen's routes (``portal.console.auth.allow``).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.enums import Role
from core.tickets.wording import N_

ALL = tuple(Role)
# Who works the conversations: the call centre and those above it.
DESK = (Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
# Everyone whose work is tickets in a territory (companies and committees have their own).
TICKET_ROLES = (*DESK, Role.DEPARTMENT, Role.INSPECTOR)
# The housing authority (inspectors, supervisors, admins) and the property companies.
COMPLAINT_ROLES = (Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN, Role.COMPANY)
# The call centre and the settlement centre's operators (core.billing.views.BILLING_ROLES).
BILLING_ROLES = (*DESK, Role.DEPARTMENT)


@dataclass(frozen=True)
class Screen:
    key: str
    path: str
    # An English message id, translated when the menu is drawn.
    label: str
    roles: tuple[Role, ...]


SCREENS: list[Screen] = [
    Screen("inbox", "/console", N_("Inbox"), TICKET_ROLES),
    Screen("search", "/console/search", N_("Search"), TICKET_ROLES),
    Screen(
        "dispatch",
        "/console/dispatch",
        N_("Cases"),
        (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.DEPARTMENT, Role.INSPECTOR),
    ),
    Screen("complaints", "/console/complaints", N_("Complaints"), COMPLAINT_ROLES),
    Screen("orders", "/console/complaints/orders", N_("Orders"), COMPLAINT_ROLES),
    Screen("score", "/console/complaints/score", N_("Integrity score"), COMPLAINT_ROLES),
    Screen(
        "ballots",
        "/console/ballots",
        N_("Ballots"),
        (Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN, Role.INSPECTOR),
    ),
    Screen("billing", "/console/billing", N_("Accounts"), BILLING_ROLES),
    Screen("canned", "/console/canned", N_("Canned responses"), (Role.SUPERVISOR, Role.ADMIN)),
]


def screens_for(role: Role) -> list[Screen]:
    """Returns the screens a role may open, in menu order."""
    return [screen for screen in SCREENS if role in screen.roles]


def home_of(role: Role) -> str:
    """Returns where a role lands after logging in: its first screen."""
    screens = screens_for(role)
    return screens[0].path if screens else "/console/account"


# Words the templates build from codes ("view:" + code), listed so the catalogs have them.
LABELS = (
    N_("view:mine"),
    N_("view:unassigned"),
    N_("view:team"),
    N_("view:overdue"),
    N_("view:waiting"),
    N_("view:all"),
    N_("kind:billing_inquiry"),
    N_("kind:city_case"),
    N_("kind:property_complaint"),
    N_("kind:vote"),
    N_("kind:meter_reading"),
    N_("kind:general"),
    N_("contact:phone"),
    N_("contact:telegram"),
    N_("contact:web"),
    N_("contact:email"),
    N_("delivery:pending"),
    N_("delivery:sending"),
    N_("delivery:inline"),
    N_("delivery:sent"),
    N_("delivery:delivered"),
    N_("delivery:undelivered"),
    N_("delivery:failed"),
    N_("delivery:suppressed"),
    N_("status_action:in_progress"),
    N_("status_action:on_hold"),
    N_("status_action:resolved"),
    N_("status_action:closed"),
    N_("status_action:rejected"),
    N_("status_action:reopened"),
    N_("reply_refused:opted_out"),
    N_("reply_refused:no_address"),
    N_("reply_refused:too_long"),
    N_("reply_refused:empty"),
    N_("reply_refused:no_channel"),
    N_("note_refused:invalid"),
    N_("assign_refused:no_such_agent"),
    N_("assign_refused:outside_scope"),
    N_("assign_refused:no_such_department"),
    N_("assign_refused:closed"),
    N_("status_refused:not_allowed"),
    N_("merge_refused:no_such_ticket"),
    N_("merge_refused:same_ticket"),
    N_("merge_refused:closed"),
    N_("merge_refused:own_workflow"),
    N_("merge_refused:no_such_message"),
)
