"""Logging set-up, with personal data masked before it reaches any handler."""

from __future__ import annotations

import logging
import re

# Phone numbers as we store them (E.164), as people type them (+7 (900) 123-45-67) and as
# Russian landlines dial them (8 900 ...). Timestamps, ids and IP addresses stay readable.
_PHONE = re.compile(
    r"\+\d{7,15}\b"
    r"|\+?\d{1,3}[\s(-]+\d{3}[\s)-]+\d{3}[\s-]?\d{2}[\s-]?\d{2}\b"
    r"|(?<![\d.])[78]\d{10}\b"
)


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
    """Sends logs to stderr with personal data masked; keeps handlers someone else set up."""
    root = logging.getLogger()
    if not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    for handler in root.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
    root.setLevel(level.upper())
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # uvicorn's loggers propagate to ours, so its access log is masked too.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
