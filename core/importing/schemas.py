"""What an import endpoint answers."""

from __future__ import annotations

from pydantic import BaseModel


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
