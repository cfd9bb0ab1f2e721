"""Every console screen, as each demo login sees it, in English, Russian and Chinese, on a
phone and on a desktop: nothing shows a code where words belong, nothing overflows the
phone's width, and each is photographed (into HUB_SCREENSHOTS, docs/console by default
when it is set; a temporary folder otherwise)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.contract import Location
from core.intake import service as intake_service
from tests.core.complaints.factories import resident_of
from tests.e2e.live_server import CHROMIUM, LiveHub, launch, live_hub
from tests.factories import inbound

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
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
# A code shown instead of its words: "view:mine", "kind:general", "order:open"…
LEAK = re.compile(
    r"\b(view|kind|channel|delivery|reply_refused|stage|action|order|score_status|"
    r"ballot_status|role|contact|unit|back_office|complaint_stage):[a-z_]+"
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with live_hub(tmp_path_factory.mktemp("console-screens")) as served:
        yield served


def _numbers(live: LiveHub, language: str) -> dict[str, str]:
    """Files a request, a city case and a complaint; returns their numbers."""

    async def file(hub: Any) -> dict[str, str]:
        request = await intake_service.receive(
            hub=hub, message=inbound(TEXTS[language], sender=PHONES[language])
        )
        case = await intake_service.receive(
            hub=hub,
            message=inbound(
                "Мусор у контейнеров",
                sender="+79005558802",
                location=Location(latitude=55.754, longitude=37.606),
            ),
        )
        complaint = await intake_service.receive(
            hub=hub, message=inbound("Не работает лифт в подъезде", sender=resident_of(2))
        )
        return {
            "ticket": request.ticket_number or "",
            "case": case.ticket_number or "",
            "complaint": complaint.ticket_number or "",
        }

    return live.run(file)


TEXTS = {
    "en": "No hot water in the flat since this morning",
    "ru": "Нет горячей воды с утра",
    "zh": "从早上起家里就没有热水",
}
PHONES = {"en": "+79005558811", "ru": "+79005558812", "zh": "+79005558813"}
# (login, screen name, path); {ticket}, {case}, {complaint} are filled in.
SCREENS = [
    ("agent", "inbox", "/console?view=all"),
    ("agent", "ticket", "/console/tickets/{ticket}"),
    ("agent", "search", "/console/search"),
    ("agent", "account", "/console/account"),
    ("dispatcher", "cases", "/console/dispatch"),
    ("dispatcher", "case", "/console/dispatch/cases/{case}"),
    ("company", "complaints", "/console/complaints"),
    ("company", "complaint", "/console/complaints/items/{complaint}"),
    ("company", "orders", "/console/complaints/orders"),
    ("inspector", "ranking", "/console/complaints/score"),
    ("committee", "ballots", "/console/ballots"),
    ("committee", "new-ballot", "/console/ballots/new"),
    ("admin", "canned", "/console/canned"),
    ("billing", "billing", "/console/billing"),
]


def _shots() -> Path:
    given = os.environ.get("HUB_SCREENSHOTS")
    return Path(given) if given else Path(tempfile.gettempdir()) / "console-screens"


# The elements that reach past the window's right edge (none, on every screen and size).
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
            && getComputedStyle(e).position !== 'absolute')
  .slice(0, 3)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _check(page: Any, name: str) -> None:
    text = page.inner_text("body")
    assert not LEAK.search(text), (name, LEAK.search(text))
    # A template naming a helper instead of a value ("<function helpers.<locals>…").
    assert "<function" not in page.content(), name
    # Nothing wider than the window: a phone never scrolls sideways.
    overflow = page.evaluate(WIDEST)
    assert not overflow, (name, overflow)


def _login(browser: Any, live: LiveHub, username: str, language: str, size: str) -> Any:
    width, height = SIZES[size]
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(f"{live.base}/console/login?lang={language}")
    if size == "desktop" and username == "agent" and language == "en":
        page.screenshot(path=str(_shots() / f"login-{language}-{size}.png"))
    page.locator("#username").fill(username)
    page.locator("#password").fill(f"{username}-demo")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(re.compile(r"/console"))
    page.goto(f"{live.base}/console/account")
    page.select_option("#language", language)
    page.locator("#language ~ button").click()
    return page


@pytest.mark.parametrize("language", ["en", "ru", "zh"])
def test_every_screen_in_every_language_on_a_phone_and_a_desktop(
    live: LiveHub, language: str
) -> None:
    from playwright.sync_api import sync_playwright

    numbers = _numbers(live, language)
    _shots().mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for size in SIZES:
                pages: dict[str, Any] = {}
                for username, name, path in SCREENS:
                    if username not in pages:
                        pages[username] = _login(browser, live, username, language, size)
                    page = pages[username]
                    page.goto(live.base + path.format(**numbers))
                    page.wait_for_load_state("networkidle")
                    _check(page, name)
                    page.screenshot(
                        path=str(_shots() / f"{name}-{language}-{size}.png"), full_page=True
                    )
        finally:
            browser.close()
