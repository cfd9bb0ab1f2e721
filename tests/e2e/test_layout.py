"""Layouts a person sees, measured in Chromium: pages rendered from their templates with the
real stylesheet, at a phone's width."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from portal.i18n import TEMPLATES, translator

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CSS = Path(__file__).parents[2] / "portal" / "static" / "hub.css"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="Chromium is not installed (CI installs it)",
)


def _standalone(template: str, **context: object) -> str:
    html = TEMPLATES.env.get_template(template).render(**context)
    return html.replace(
        '<link rel="stylesheet" href="/static/hub.css">', f"<style>{CSS.read_text()}</style>"
    )


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
def test_each_topic_checkbox_sits_beside_its_words(lang: str) -> None:
    from playwright.sync_api import sync_playwright

    html = _standalone(
        "subscriptions/index.html",
        _=translator(lang),
        lang=lang,
        csrf="x",
        stage="topics",
        phone_tail="0001",
        topics=[("outages", True), ("ticket_status", True), ("votes", False), ("billing", False)],
        error=None,
        notice=None,
        code_sent_to="",
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.set_content(html)
            rows = page.locator("label.choice")
            assert rows.count() == 4
            tops = []
            for index in range(4):
                box = rows.nth(index).locator("input").bounding_box()
                words = rows.nth(index).locator("span").bounding_box()
                assert box and words
                # A small box, left of its words, on the same line.
                assert box["width"] < 32 and box["x"] + box["width"] <= words["x"]
                assert abs((box["y"] + box["height"] / 2) - (words["y"] + words["height"] / 2)) < 6
                tops.append(box["y"])
            # One topic per line, each line tall enough to tap.
            assert all(b - a >= 40 for a, b in zip(tops, tops[1:], strict=False))
        finally:
            browser.close()
