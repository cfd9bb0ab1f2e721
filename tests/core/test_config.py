import pytest
from pydantic import ValidationError

from core.config import Settings, normalise_database_url


def test_no_settings_at_all_is_the_embedded_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path)
    assert settings.embedded and settings.simulator_on
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.resolved_database_url.endswith("hub.sqlite3")


@pytest.mark.parametrize(
    "values",
    [{"database_url": "postgresql://db/hub"}, {"redis_url": "redis://cache:6379/0"}],
)
def test_the_default_secret_is_refused_outside_the_embedded_mode(values: dict) -> None:
    with pytest.raises(ValidationError, match="HUB_SECRET_KEY"):
        Settings(**values)
    deployed = Settings(**values, secret_key="a-real-secret-from-the-vault-0123456789")
    assert not deployed.embedded and not deployed.simulator_on


def test_plain_database_urls_get_async_drivers() -> None:
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


def test_default_language_must_be_offered() -> None:
    with pytest.raises(ValidationError):
        Settings(default_language="fr")
