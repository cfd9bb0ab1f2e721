"""Logging set-up, with personal data masked before it reaches any handler."""

from __future__ import annotations

import logging
import re

# E.164-looking numbers and long digit runs (phones typed any way) become ***NN.
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")


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
        return True


def configure_logging(level: str = "INFO") -> None:
    """Configures the root logger once, with the personal-data filter on its handler."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
