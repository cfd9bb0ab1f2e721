"""One typed settings object for the whole hub (env vars prefixed ``HUB_``, ``.env`` supported)."""

from __future__ import annotations

import os
import secrets
import tempfile
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that were once published as defaults (in this repository's history): a key
# anyone can read signs anyone's session, so they are refused everywhere.
PUBLISHED_SECRETS = frozenset({"embedded-development-secret-change-me"})
MIN_SECRET_LENGTH = 16
SECRET_FILE = "secret_key"  # noqa: S105 (a file name)


def embedded_secret(data_dir: Path) -> str:
    """Returns the embedded hub's own secret key, made at random on first start.

    It lives in the data directory beside the database (mode 0600), so it survives
    restarts and stays on the machine; nothing published can sign this hub's sessions.
    The key is written to a file of its own and then linked into place, so nobody ever
    reads a half-written key, and of several processes starting at once the first link
    wins and all use its key.
    """
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    existing = _read_secret(path)
    if existing:
        return existing
    descriptor, draft = tempfile.mkstemp(dir=data_dir, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            if not _read_secret(path):  # an empty file left by a crash: replace it
                os.replace(draft, path)
    finally:
        Path(draft).unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return ""


def _secret_default(data: dict[str, Any]) -> SecretStr:
    # Only the embedded mode may make its own key: several service processes behind a load
    # balancer must share one, so there it has to be given (see ``_check``).
    embedded = data.get("redis_url") is None and (
        data.get("database_url") is None or str(data["database_url"]).startswith("sqlite")
    )
    return SecretStr(embedded_secret(Path(data["data_dir"])) if embedded else "")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    # Signs session cookies and keys PIN hashes. Embedded: made at random on first start and
    # kept in data_dir; anything else: required.
    secret_key: SecretStr = Field(default_factory=_secret_default)

    # Connection pool for PostgreSQL; SQLite ignores it.
    db_pool_size: int = 10
    db_max_overflow: int = 10

    # Phone numbers written without a country code are read in this region.
    phone_region: str = "RU"
    default_language: str = "en"
    languages: tuple[str, ...] = ("en", "ru", "zh")
    timezone: str = "Europe/Moscow"

    # A resident who sends several short messages in a row (a pensioner splitting one
    # complaint over three SMS) gets one ticket, not three.
    continuation_minutes: int = 10

    # Outbox delivery: attempts and exponential backoff base (seconds).
    outbox_max_attempts: int = 6
    outbox_retry_delay: float = 5.0
    # A row left in "sending" longer than this is assumed lost with its worker.
    outbox_lease_seconds: int = 120

    # The live event stream (GET /api/v1/events): a comment line this often keeps proxies
    # from closing a quiet stream; at most this many events per read; how long a gap in
    # event ids (a transaction that took its id but has not committed) holds later events.
    events_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    events_batch_size: int = Field(default=200, ge=1, le=5000)
    events_gap_grace_seconds: float = Field(default=5.0, ge=0, le=300)

    # Routing rules, categories and SLA policies are data; caching them per process
    # saves several queries per message and the cache is short so edits apply quickly.
    routing_cache_seconds: float = 30.0

    # The address providers reach us at (https://hub.example.org): Twilio signs requests
    # against it, and status callbacks are sent to it.
    public_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    # Sending rate per sending number or messaging service (Twilio: 1/s for a long code).
    sms_rate_per_second: float = 1.0
    # Share of the rate kept free for replies while a bulk notice drains.
    sms_reply_reserve: float = 0.2
    # Whether a resident who sent STOP still gets replies to their own requests.
    sms_replies_after_opt_out: bool = True
    # Notices longer than this many parts are flagged before they are sent.
    sms_max_parts: int = 3

    # Billing (DOMAIN §4). Readings sent after this day of the month count for the next period.
    billing_reading_deadline_day: int = Field(default=25, ge=1, le=28)
    # Missing readings: average over up to this many earlier months (at least min_months of
    # them), for at most average_cap periods; then the normative.
    billing_average_window: int = Field(default=6, ge=1, le=24)
    billing_average_min_months: int = Field(default=3, ge=1, le=24)
    billing_average_cap: int = Field(default=3, ge=0, le=12)
    # A month's volume this many times the usual one is held for review.
    billing_review_band: Decimal = Field(default=Decimal(3), gt=1)
    # Wrong PINs allowed per contact and per account within the lock window.
    billing_pin_max_failures: int = Field(default=5, ge=1)
    billing_pin_lock_minutes: int = Field(default=60, ge=1)
    billing_currency: str = "RUB"
    # How a computed amount is rounded to kopecks: half_up (Russian bills) or half_even.
    billing_rounding: Literal["half_up", "half_even"] = "half_up"

    # City case dispatch (DOMAIN §1). Reports of the same category within this many metres
    # and hours of an open case are offered to the dispatcher as a merge.
    dispatch_duplicate_radius_m: float = Field(default=50.0, gt=0, le=5000)
    dispatch_duplicate_window_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Registering a case dispatches it at once when a department is responsible for it.
    dispatch_auto_dispatch: bool = True
    # Who approves the first, second, ... extension of a case (the shift lead, then higher).
    dispatch_extension_approvers: tuple[str, ...] = ("supervisor", "admin")
    # A parked case's own clock when the dispatcher gives no date: working days.
    dispatch_park_days: int = Field(default=30, ge=1, le=365)

    # Property complaints (DOMAIN §5). Deadlines are in working days of the city calendar
    # unless a routing rule's SLA policy gives the company's response time.
    complaints_response_days: int = Field(default=5, ge=1, le=60)
    # An answered complaint the resident neither confirms nor disputes counts as confirmed.
    complaints_confirm_days: int = Field(default=7, ge=1, le=60)
    complaints_rectification_days: int = Field(default=10, ge=1, le=365)
    # The public ranking is kept this long per process; a change made in the same process
    # shows at once, one made elsewhere within this time.
    complaints_ranking_cache_seconds: float = Field(default=10.0, ge=0, le=3600)
    # Calendar days a company has to appeal a pre-deduction notice.
    complaints_appeal_days: int = Field(default=10, ge=1, le=90)
    # The integrity score counts confirmed events of this many past days.
    complaints_score_window_days: int = Field(default=365, ge=30, le=3650)
    complaints_basic_cap: float = Field(default=80.0, ge=0, le=100)
    complaints_good_cap: float = Field(default=20.0, ge=0, le=100)
    # Bands from the top: a company gets the first band whose floor its score reaches.
    complaints_bands: tuple[tuple[str, float], ...] = (
        ("AAA", 85.0),
        ("AA", 80.0),
        ("A", 70.0),
        ("B", 60.0),
        ("C", 0.0),
    )

    # Owners' votes (DOMAIN §3). A reply this many days after a ballot closed is told it
    # came too late (after that it is an ordinary message).
    votes_late_reply_days: int = Field(default=30, ge=1, le=365)

    # Photos on cases: where they are kept (a folder under data_dir, or S3-compatible).
    media_storage: Literal["local", "s3"] = "local"
    media_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    media_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
    media_s3_bucket: str | None = None
    media_s3_endpoint_url: str | None = None
    media_s3_region: str | None = None
    media_s3_access_key: SecretStr | None = None
    media_s3_secret_key: SecretStr | None = None
    # Open311 media_url and MMS pictures are fetched from the open internet; private and
    # loopback addresses are refused unless this is set (tests, a closed network).
    media_fetch_allow_private: bool = False
    media_fetch_timeout: float = Field(default=15.0, gt=0)

    # Open311 GeoReport v2: the jurisdiction_id this endpoint answers for.
    open311_jurisdiction: str = "riverside"

    # The largest request body taken (413 beyond): forms and JSON are small; file imports
    # and case photos have their own, larger limits.
    max_body_bytes: int = Field(default=1024 * 1024, ge=16 * 1024)
    import_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024 * 1024)
    # Staff login: attempts allowed per account (a success starts its count again) and per
    # client address (every attempt counts) within the window; further attempts are refused
    # until the window moves on. Behind a proxy, run uvicorn with the proxy's address in
    # FORWARDED_ALLOW_IPS so the client address is the caller's, not the proxy's.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_max_failures_per_client: int = Field(default=50, ge=1, le=1000)
    login_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # A staff session ends after this long without a request, and in any case this long
    # after the login (a shared counter PC must not stay logged in overnight).
    staff_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    staff_session_hours: int = Field(default=12, ge=1, le=7 * 24)

    simulator_enabled: bool | None = None
    demo_on_first_run: bool = True
    log_level: str = "INFO"

    @property
    def embedded(self) -> bool:
        """Whether the hub runs in the single-process embedded mode (SQLite, in-process queue)."""
        return self.redis_url is None and self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_database_url(self) -> str:
        """Returns the database URL, defaulting to a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"

    @property
    def simulator_on(self) -> bool:
        """Whether /simulator is served.

        It makes tickets with no provider and shows what was sent to the numbers typed into
        it, so by default only in the embedded mode and never once real SMS are configured.
        """
        if self.simulator_enabled is not None:
            return self.simulator_enabled
        return self.embedded and not self.twilio_account_sid

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if not secret:
            raise ValueError("HUB_SECRET_KEY must be set outside the embedded mode")
        if secret in PUBLISHED_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"HUB_SECRET_KEY must be a private random string of at least "
                f"{MIN_SECRET_LENGTH} characters, not a published default"
            )
        if self.default_language not in self.languages:
            raise ValueError("HUB_DEFAULT_LANGUAGE must be one of HUB_LANGUAGES")
        floors = [floor for _band, floor in self.complaints_bands]
        if not floors or floors != sorted(floors, reverse=True) or floors[-1] != 0:
            raise ValueError(
                "HUB_COMPLAINTS_BANDS runs from the highest floor down to a band from 0"
            )
        return self


def normalise_database_url(url: str) -> str:
    """Returns the URL with an async driver, so ``postgresql://`` works as users expect."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@lru_cache
def get_settings() -> Settings:
    """Returns the process-wide settings read from the environment."""
    return Settings()


__all__ = ["Settings", "embedded_secret", "get_settings", "normalise_database_url"]
