"""The console in a real browser: a resident writes in the simulator, the agent sees it
appear without a reload, replies, and the resident sees the reply; scope, merge, split and
the call pop-up. Debian's Chromium driven by Playwright; the hub served in this process."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live_server import CHROMIUM, LiveHub, launch, live_hub

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
        reason="Chromium is not installed (CI installs it)",
    ),
    # It serves its own embedded hub, whatever database the suite runs on: once is enough.
    pytest.mark.skipif(
        bool(os.environ.get("HUB_TEST_DATABASE_URL")), reason="runs in the SQLite run only"
    ),
]
# Where the screenshots go: HUB_SCREENSHOTS (docs/console for the docs), else a temp folder.
SHOTS = Path(os.environ.get("HUB_SCREENSHOTS") or Path(tempfile.gettempdir()) / "console-screens")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_hub(tmp_path_factory.mktemp("console-hub")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def log_in(browser: Any, live: LiveHub, username: str, *, width: int = 1280) -> Any:
    """Returns a page of a new browser context logged in to the console as ``username``."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(f"{live.base}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/console"))
    return page


def send_sms(browser: Any, live: LiveHub, phone: str, text: str) -> Any:
    """Sends a message as a resident in the simulator; returns the simulator's page."""
    page = browser.new_context().new_page()
    page.goto(f"{live.base}/simulator?lang=en")
    page.get_by_label("SMS").check()
    page.get_by_label("Your phone number or Telegram chat id").fill(phone)
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()
    return page


def live_and_waiting(page: Any) -> None:
    """Waits until the console's event stream is open (rows can then arrive by themselves)."""
    page.wait_for_function("document.body.getAttribute('data-live') === 'open'", timeout=15_000)


def test_an_sms_appears_in_the_agents_inbox_without_a_reload_and_the_reply_reaches_the_resident(
    live: LiveHub, browser: Any
) -> None:
    from playwright.sync_api import expect

    agent = log_in(browser, live, "agent")
    agent.goto(f"{live.base}/console?view=all")
    live_and_waiting(agent)
    agent.evaluate("window.__notReloaded = true")

    resident = send_sms(browser, live, "+7 900 555-77-01", "No hot water in the flat since morning")
    row = agent.locator("#inbox-rows tr", has_text="No hot water in the flat")
    expect(row).to_be_visible(timeout=15_000)
    assert agent.evaluate("window.__notReloaded") is True
    SHOTS.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SHOTS / "inbox-live-en-desktop.png"), full_page=True)

    row.locator("a.open").click()
    agent.get_by_label(re.compile("^Message")).fill("We have passed it to the housing service.")
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.locator("#thread .msg.out", has_text="passed it to the housing")).to_be_visible(
        timeout=15_000
    )
    agent.screenshot(path=str(SHOTS / "ticket-en-desktop.png"), full_page=True)
    expect(
        resident.locator(".msg.out .text", has_text="passed it to the housing service")
    ).to_be_visible(timeout=20_000)


async def _ticket_in(hub: Any, district: str, text: str) -> str:
    """Files a request in ``district`` the way a back office would; returns its number."""
    from sqlalchemy import select

    from core.db import transaction
    from core.territory.models import District
    from core.tickets import service as tickets_service

    async with transaction(hub.session_factory) as session:
        district_id = await session.scalar(select(District.id).where(District.code == district))
        ticket = await tickets_service.create(
            db_session=session,
            channel="sms",
            kind="general",
            summary=text,
            language="ru",
            back_office="general",
            actor="system",
            district_id=district_id,
        )
        return ticket.public_number


def test_a_north_dispatcher_never_sees_a_south_ticket_in_the_list_or_the_stream(
    live: LiveHub, browser: Any
) -> None:
    from playwright.sync_api import expect

    north = log_in(browser, live, "north")
    north.goto(f"{live.base}/console?view=all")
    live_and_waiting(north)
    north.evaluate(
        "window.__seen = []; window.hubConsole.onTicketEvent(e => window.__seen.push(e.ticket))"
    )
    riverside = live.run(lambda hub: _ticket_in(hub, "river", "Riverside: a fallen tree"))
    mine = live.run(lambda hub: _ticket_in(hub, "north", "North: a broken bench"))
    expect(north.locator("#inbox-rows tr", has_text="North: a broken bench")).to_be_visible(
        timeout=15_000
    )
    seen = north.evaluate("window.__seen")
    assert mine in seen and riverside not in seen
    assert north.locator("#inbox-rows tr", has_text="Riverside").count() == 0
    north.goto(f"{live.base}/console/tickets/{riverside}")
    expect(north.get_by_role("heading", level=1)).to_have_text("Not found")


def test_merge_asks_first_and_split_opens_a_new_request(live: LiveHub, browser: Any) -> None:
    from playwright.sync_api import expect

    send_sms(browser, live, "+7 900 555-77-11", "When is the reception open on Saturday?")
    send_sms(browser, live, "+7 900 555-77-12", "Is the reception open at weekends?")
    agent = log_in(browser, live, "agent")
    agent.goto(f"{live.base}/console?view=all")
    first = agent.locator("#inbox-rows tr", has_text="on Saturday").get_attribute("data-number")
    second = agent.locator("#inbox-rows tr", has_text="at weekends").get_attribute("data-number")
    assert first and second
    agent.goto(f"{live.base}/console/tickets/{second}")
    agent.get_by_label("Number of the request to keep").fill(first)
    agent.get_by_role("button", name="Merge", exact=True).click()
    expect(agent.get_by_role("alert")).to_contain_text("two different residents")
    agent.screenshot(path=str(SHOTS / "merge-confirm-en-desktop.png"), full_page=True)
    agent.get_by_role("button", name="Yes, merge requests of two residents").click()
    agent.wait_for_url(f"**/console/tickets/{first}")
    expect(agent.locator("#thread")).to_contain_text("at weekends")
    agent.locator(".msg.in", has_text="at weekends").get_by_role(
        "button", name="Split into a new request"
    ).click()
    agent.wait_for_url(re.compile(r"/console/tickets/(?!" + first + r")\d+$"))
    expect(agent.locator("#thread")).to_contain_text("at weekends")
    expect(agent.locator("#thread")).not_to_contain_text("on Saturday")


def test_a_screen_pop_reaches_only_the_agent_who_answers(live: LiveHub, browser: Any) -> None:
    from playwright.sync_api import expect
    from sqlalchemy import select

    from core.auth.models import StaffUser
    from core.calls import service as calls

    send_sms(browser, live, "+7 900 555-77-21", "Please call me back about my bill")
    first, second = log_in(browser, live, "agent"), log_in(browser, live, "agent2")
    for page in (first, second):
        page.goto(f"{live.base}/console?view=all")
        live_and_waiting(page)

    async def ring(hub: Any) -> None:
        async with hub.session_factory() as session:
            agent = await session.scalar(select(StaffUser.id).where(StaffUser.username == "agent"))
        await calls.call_ringing(hub=hub, external_id="e2e.1", caller="89005557721", agent_id=agent)
        await calls.call_answered(hub=hub, external_id="e2e.1", agent_id=agent)

    live.run(ring)
    popup = first.locator("#call-popup")
    expect(popup).to_contain_text("+79005557721", timeout=15_000)
    expect(popup.locator("#call-card")).to_contain_text("Please call me back", timeout=15_000)
    first.screenshot(path=str(SHOTS / "screen-pop-en-desktop.png"), full_page=True)
    second.wait_for_timeout(1500)
    assert second.locator("#call-popup").count() == 0
