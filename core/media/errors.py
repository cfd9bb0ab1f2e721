"""Domain errors of the media package; views map them to 4xx responses by their code."""

from __future__ import annotations

from enum import StrEnum


class RejectionCode(StrEnum):
    """Why a file was refused; stable strings that callers translate."""

    TOO_LARGE = "too_large"
    EMPTY = "empty"
    NOT_AN_IMAGE = "not_an_image"
    TYPE_NOT_ALLOWED = "type_not_allowed"
    TOO_MANY_PIXELS = "too_many_pixels"


class MediaError(Exception):
    """Base of every media error."""


class MediaRejected(MediaError):
    """The file itself is unacceptable; sending it again will not help."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        # Coercing refuses a misspelt code here rather than in a caller's translation table.
        self.code = RejectionCode(code)


class MediaNotFound(MediaError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no media stored under {key!r}")
        self.key = key


class MediaFetchFailed(MediaError):
    """A URL could not be fetched; ``retryable`` says whether trying later may succeed."""

    def __init__(self, reason: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status
