"""Logging a test client in to the console the way a browser does: form, cookie, CSRF."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def form_token(html: str) -> str:
    """Returns the CSRF token a console page carries (its meta tag or a form field)."""
    found = _META.search(html) or _CSRF.search(html)
    assert found is not None, "the page carries no CSRF token"
    return found.group(1)


async def console_login(
    client: httpx.AsyncClient, username: str, password: str | None = None
) -> str:
    """Logs in through the login form; returns the session's CSRF token for later posts."""
    page = await client.get("/console/login")
    response = await client.post(
        "/console/login",
        data={
            "username": username,
            "password": password or f"{username}-demo",
            "csrf": form_token(page.text),
        },
    )
    assert response.status_code == 303, response.text[:300]
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200, landing.text[:300]
    return form_token(landing.text)
