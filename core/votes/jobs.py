"""The votes back office's jobs for the worker (listed in its spec)."""

from __future__ import annotations

import logging

from saq import CronJob

from core.db import transaction, utcnow
from core.runtime import Hub, HubContext
from core.votes import ballots as votes_ballots

logger = logging.getLogger("hub.jobs")


async def run_ballots(ctx: HubContext) -> int:
    """Announces, opens and closes the ballots whose time has come, each in its own
    transaction, and hands their blasts to the bulk queue."""
    hub: Hub = ctx["hub"]
    now = utcnow()
    async with hub.session_factory() as session:
        steps = await votes_ballots.due_steps(db_session=session, now=now)
    step_of = {
        "announce": votes_ballots.announce_ballot,
        "open": votes_ballots.open_ballot,
        "close": votes_ballots.close_ballot,
    }
    for step, ballot_id in steps:
        try:
            async with transaction(hub.session_factory) as session:
                ids = await step_of[step](
                    db_session=session, ballot_id=ballot_id, now=now, timezone=hub.settings.timezone
                )
        except Exception:
            # One ballot's failure must not hold up the others; the next run tries again.
            logger.exception("ballot %s: %s failed", ballot_id, step)
            continue
        logger.info("ballot %s: %s, %d messages queued", ballot_id, step, len(ids))
    return len(steps)


CRON_JOBS = (CronJob(run_ballots, cron="* * * * *", unique=True, timeout=600),)
