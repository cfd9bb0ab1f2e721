"""What every request passes before a view: a body size limit, safe validation errors, and
the browser's security headers on every answer."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import LANGUAGES, gettext
from portal.i18n import TEMPLATES, translator
from portal.open311 import render as open311_render

# A validation error quotes the offending value only when it is short and plain: a
# megabyte-long field is not echoed back, and a number that overflowed to infinity (JSON
# ``1e400``) cannot be written as JSON at all.
ECHO_LIMIT = 100

# Pages are server-rendered with their own scripts and styles, all served from here: no
# other origin may supply any, no script may be written into a page (only files from
# here run), and no other site may frame them (clickjacking). A page that needs more sets
# its own policy (the API docs: portal/apidocs.py), which is then left as it is.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    b"script-src 'self'; connect-src 'self'; "
    b"frame-ancestors 'none'; "
    b"base-uri 'self'; form-action 'self'; object-src 'none'"
)


@dataclass(frozen=True)
class BodyLimits:
    """The largest request body accepted: a default, and larger ones for uploads."""

    default: int
    # (path pattern, limit): file imports and photo uploads carry more than a form does.
    larger: Sequence[tuple[re.Pattern[str], int]] = ()

    def for_path(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.fullmatch(path):
                return limit
        return self.default


class GuardMiddleware:
    """Refuses bodies over the limit with 413 and adds the security headers.

    A declared Content-Length over the limit is refused before anything is read; a body
    sent without one (chunked) is counted as it arrives and refused once it passes the
    limit, so no view ever holds more than the limit in memory.
    """

    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, send, limit)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit and not started:
                    # Answer now and tell the app the client left: frameworks catch errors
                    # raised while reading a body and would turn them into a vague 400.
                    refused = True
                    await _too_large(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers is dropped
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _with_security_headers(message.get("headers", []))
            await send(message)

        if _unstorable_address(scope):
            await _unstorable(scope, send, "the address or query string")
            return
        if not _is_json(scope):
            await self.app(scope, counted_receive, send_with_headers)
            return
        # JSON is read whole here (it is under the limit) to refuse text no database can
        # keep before any view sees it: a NUL character or half of a surrogate pair.
        chunks: list[bytes] = []
        while True:
            message = await counted_receive()
            if refused or message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if _unstorable_json(body):
            await _unstorable(scope, send, "the request body")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)


# A JSON escape of NUL, or of either half of a surrogate pair (checked further when seen).
_NUL_ESCAPE = re.compile(rb"\\u0000", re.IGNORECASE)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _is_json(scope: Scope) -> bool:
    content_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _unstorable_address(scope: Scope) -> bool:
    query = unquote_to_bytes(scope.get("query_string", b""))
    return "\x00" in scope["path"] or b"\x00" in query


def _unstorable_json(body: bytes) -> bool:
    if b"\x00" in body or _NUL_ESCAPE.search(body):
        return True
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        document = json.loads(body)
    except ValueError:
        return False  # not JSON at all: the view's own parsing says so
    return not _encodable(document)


def _encodable(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_encodable(k) and _encodable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_encodable(item) for item in value)
    return True


async def _unstorable(scope: Scope, send: Send, where: str) -> None:
    description = f"{where} contains a NUL character or broken Unicode, which cannot be kept"
    response = open311_render.refusal(
        scope["path"], status.HTTP_422_UNPROCESSABLE_CONTENT, description
    ) or JSONResponse({"detail": description}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = _with_security_headers(message.get("headers", []))
        await send(message)

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send_with_headers)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # A malformed length is the server's to refuse, but never as a 500.
            return int(text) if text.isdigit() and len(text) < 19 else 2**62
    return None


def _with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    added = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
    if b"content-security-policy" not in present:
        added.append((b"content-security-policy", CONTENT_SECURITY_POLICY))
    return [*headers, *added]


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    size = _size_text(limit, "en")
    headers = Headers(scope=scope)
    response: Response | None = open311_render.refusal(
        scope["path"], status.HTTP_413_CONTENT_TOO_LARGE, f"the request body is larger than {size}"
    )
    if response is not None:
        response.headers["Connection"] = "close"
    elif "text/html" in headers.get("accept", ""):
        # A person who pasted too much into a form gets a page in their language.
        language = _accepted_language(headers.get("accept-language", ""))
        _ = translator(language)
        response = TEMPLATES.TemplateResponse(
            Request(scope),
            "error.html",
            {
                "_": _,
                "lang": language,
                "title": _("Too much to send"),
                "message": _(
                    "What you sent is larger than {size}. Shorten it and try again.",
                    size=_size_text(limit, language),
                ),
                "back": _same_site_path(headers),
            },
            status_code=status.HTTP_413_CONTENT_TOO_LARGE,
            headers={"Connection": "close"},
        )
    else:
        response = JSONResponse(
            {"detail": f"the request body is larger than {size}"},
            status_code=status.HTTP_413_CONTENT_TOO_LARGE,
            headers={"Connection": "close"},
        )

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = _with_security_headers(message.get("headers", []))
        await send(message)

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send_with_headers)


def _size_text(limit: int, language: str) -> str:
    megabytes = limit / (1024 * 1024)
    if megabytes >= 1:
        return gettext(language, "{n} MB", n=f"{megabytes:.0f}")
    return gettext(language, "{n} KB", n=limit // 1024)


def _same_site_path(headers: Headers) -> str:
    referer = urlsplit(headers.get("referer", ""))
    if referer.netloc and referer.netloc == headers.get("host") and referer.path.startswith("/"):
        return referer.path
    return "/"


def _accepted_language(header: str) -> str:
    for part in header.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Returns validation errors that can always be written as JSON and stay small."""
    safe = []
    for error in errors:
        item: dict[str, Any] = {
            "type": str(error.get("type", "")),
            "loc": [
                part if isinstance(part, int) else str(part)[:ECHO_LIMIT]
                for part in error.get("loc", ())
            ],
            "msg": str(error.get("msg", ""))[:300],
        }
        value = error.get("input")
        if _echoable(value):
            item["input"] = value
        safe.append(item)
    return safe


def _echoable(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= ECHO_LIMIT
    return False


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Answers a request that failed validation with 422 and the reasons, echoing little."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": safe_errors(errors)}, status_code=422)


def install(app: FastAPI, *, limits: BodyLimits) -> None:
    """Puts the guards in front of every route of ``app``."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(GuardMiddleware, limits=limits)
