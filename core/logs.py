"""Logging set-up, with personal data and secrets masked before they reach any handler."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

# Phone numbers as we store them (E.164), as people type them (+7 (900) 123-45-67) and as
# Russian landlines dial them (8 900 ...). Timestamps, ids and IP addresses stay readable.
_PHONE = re.compile(
    r"\+\d{7,15}\b"
    r"|\+?\d{1,3}[\s(-]+\d{3}[\s)-]+\d{3}[\s-]?\d{2}[\s-]?\d{2}\b"
    r"|(?<![\d.])[78]\d{10}\b"
)


# Query parameters that carry a secret: API keys, tokens, one-time codes, PINs, passwords
# and signatures, as names of their own (key, code, pin) or as the end of one (api_key,
# access_token, client_secret). ``service_code`` and the like end otherwise and stay.
_SECRET_NAME = re.compile(
    r"(?i)^(?:key|code|pin|sig|signature|auth|[\w.-]*(?:api_?key|token|secret|password|passwd))$"
)
# Any name=value pair of a query string. The name is judged decoded (``api%5Fkey`` is the
# framework's ``api_key`` too), the value masked as it was written.
_QUERY_PAIR = re.compile(r"(?<=[?&;])([^=&;#\s\"']+)=([^&;#\s\"']*)")
# A ticket link's key is a capability: whoever holds it may read the ticket.
_CAPABILITY_PATH = re.compile(r"(/simulator/tickets/\d+/)[0-9A-Za-z_-]{8,}")


def _mask_pair(match: re.Match[str]) -> str:
    name = unquote_plus(match.group(1))
    return f"{match.group(1)}=***" if _SECRET_NAME.match(name) else match.group(0)


def mask_secrets(text: str) -> str:
    """Returns ``text`` with secret query values (api_key=…) and ticket-link keys masked."""
    return _CAPABILITY_PATH.sub(r"\1***", _QUERY_PAIR.sub(_mask_pair, text))


def _masked_argument(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value
    # URLs arrive as strings (uvicorn) or as URL objects (httpx); a value is replaced only
    # when it held a secret, so numbers and others keep their type for the format.
    text = value if isinstance(value, str) else str(value)
    masked = mask_secrets(text)
    return value if masked == text else masked


class SecretQueryFilter(logging.Filter):
    """Masks secret query parameters in a record's message and arguments.

    uvicorn's access log writes each request's path with its query, so an ``api_key`` sent
    in a URL would land in the log whole. The arguments are masked in place (not folded
    into the message) so formatters that read them by position still work.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked_argument(value) for value in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {name: _masked_argument(value) for name, value in record.args.items()}
        return True


def mask_phones(text: str) -> str:
    """Returns ``text`` with anything that looks like a phone number masked."""
    return _PHONE.sub(lambda m: "***" + re.sub(r"\D", "", m.group())[-2:], text)


class PersonalDataFilter(logging.Filter):
    """Masks phone numbers in every log record, including library messages and URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                record.msg = record.getMessage()
            except (TypeError, ValueError):
                return True
            record.args = None
        record.msg = mask_phones(str(record.msg))
        if record.exc_info and not record.exc_text:
            # Format the traceback now so it can be masked like the message.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        return True


def configure_logging(level: str = "INFO") -> None:
    """Sends logs to stderr with personal data and secrets masked; keeps handlers someone
    else set up."""
    root = logging.getLogger()
    if not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    for handler in root.handlers:
        # Secrets first: the personal-data filter folds the arguments into the message.
        for kind in (SecretQueryFilter, PersonalDataFilter):
            if not any(isinstance(f, kind) for f in handler.filters):
                handler.addFilter(kind())
    root.setLevel(level.upper())
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # uvicorn's loggers propagate to ours, so its access log is masked too.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # And on the access logger itself, so a handler added later (a test's, an operator's
    # log config) never sees a key either.
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, SecretQueryFilter) for f in access.filters):
        access.addFilter(SecretQueryFilter())
