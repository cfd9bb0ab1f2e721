"""The back offices this hub runs, listed once, in the order they read messages.

Like Warehouse's one list of included packages: a back office is installed by adding its
spec here, and nothing registers itself by being imported. The order matters twice: the
claim readers are asked in this order, and the demo city is loaded in this order (a back
office's demo may rely on the ones before it).
"""

from __future__ import annotations

from core.backoffice import BackOffices, BackOfficeSpec
from core.billing.spec import SPEC as BILLING
from core.complaints.spec import SPEC as COMPLAINTS
from core.dispatch.spec import SPEC as DISPATCH
from core.intake.triage import SPEC as GENERAL
from core.votes.spec import SPEC as VOTES

# Votes first: a ballot reply ("1") is read before anything else may take the digit.
INSTALLED: tuple[BackOfficeSpec, ...] = (VOTES, BILLING, DISPATCH, COMPLAINTS, GENERAL)


def installed() -> BackOffices:
    """Returns the registry of the installed back offices."""
    return BackOffices(INSTALLED)
