"""One conformance suite for every Storage: a folder, and S3 as served by moto over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from core.config import Settings
from core.media.errors import MediaNotFound
from core.media.storage import LocalStorage, S3Storage, Storage, storage_from_settings

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "us-east-1"

BAD_KEYS = [
    "",
    "../outside.jpg",
    "tickets/../../outside.jpg",
    "tickets/./a.jpg",
    "/etc/passwd",
    "tickets/",
    "tickets//a.jpg",
    "Tickets/A.JPG",
    "tickets/a b.jpg",
    "tickets\\a.jpg",
    "tickets/%2e%2e/a.jpg",
    "a" * 1025,
]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """Returns the address of a moto S3 server on loopback, running for this module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def s3_admin(moto_url: str) -> Any:
    """Returns a plain boto3 client of the moto server, to set up and inspect buckets."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture
def bucket(s3_admin: Any) -> str:
    """Returns a new empty bucket on the moto server."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3_admin.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Returns each Storage implementation in turn."""
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    return S3Storage(
        bucket=request.getfixturevalue("bucket"),
        endpoint_url=request.getfixturevalue("moto_url"),
        region=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )


async def test_put_then_get_returns_the_same_bytes(storage: Storage) -> None:
    data = bytes(range(256)) * 100
    await storage.put("tickets/7/photo.jpg", data, "image/jpeg")
    assert await storage.get("tickets/7/photo.jpg") == data


async def test_put_overwrites(storage: Storage) -> None:
    await storage.put("tickets/7/photo.png", b"first", "image/png")
    await storage.put("tickets/7/photo.png", b"second", "image/png")
    assert await storage.get("tickets/7/photo.png") == b"second"


async def test_keys_are_independent(storage: Storage) -> None:
    await storage.put("tickets/1/a.png", b"one", "image/png")
    await storage.put("tickets/2/a.png", b"two", "image/png")
    assert await storage.get("tickets/1/a.png") == b"one"
    assert await storage.get("tickets/2/a.png") == b"two"


async def test_get_of_a_missing_key_raises_not_found(storage: Storage) -> None:
    with pytest.raises(MediaNotFound) as caught:
        await storage.get("tickets/7/missing.jpg")
    assert caught.value.key == "tickets/7/missing.jpg"


async def test_get_of_a_folder_prefix_raises_not_found(storage: Storage) -> None:
    await storage.put("tickets/7/photo.jpg", b"x", "image/jpeg")
    with pytest.raises(MediaNotFound):
        await storage.get("tickets/7")


async def test_delete_removes_the_key(storage: Storage) -> None:
    await storage.put("tickets/7/photo.webp", b"data", "image/webp")
    await storage.delete("tickets/7/photo.webp")
    with pytest.raises(MediaNotFound):
        await storage.get("tickets/7/photo.webp")


async def test_delete_of_a_missing_key_is_not_an_error(storage: Storage) -> None:
    await storage.delete("tickets/7/never-stored.jpg")
    with pytest.raises(MediaNotFound):
        await storage.get("tickets/7/never-stored.jpg")


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid media key"):
        await storage.put(key, b"data", "image/jpeg")
    with pytest.raises(ValueError, match="invalid media key"):
        await storage.get(key)
    with pytest.raises(ValueError, match="invalid media key"):
        await storage.delete(key)


async def test_local_storage_writes_only_under_its_root(tmp_path: Path) -> None:
    root = tmp_path / "media"
    storage = LocalStorage(root)
    (tmp_path / "secret.txt").write_bytes(b"keep")
    for key in ("../secret.txt", "tickets/../../secret.txt"):
        with pytest.raises(ValueError):
            await storage.put(key, b"overwritten", "image/jpeg")
        with pytest.raises(ValueError):
            await storage.delete(key)
    assert (tmp_path / "secret.txt").read_bytes() == b"keep"

    await storage.put("tickets/9/a.jpg", b"data", "image/jpeg")
    # The temporary file is renamed into place, so none is left beside the photo.
    assert sorted(p.name for p in (root / "tickets" / "9").iterdir()) == ["a.jpg"]


async def test_s3_keeps_the_content_type(moto_url: str, bucket: str, s3_admin: Any) -> None:
    storage = S3Storage(
        bucket=bucket,
        endpoint_url=moto_url,
        region=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )
    await storage.put("tickets/3/a.webp", b"data", "image/webp")
    # Served straight from the bucket, the photo needs its type to display in a browser.
    head = s3_admin.head_object(Bucket=bucket, Key="tickets/3/a.webp")
    assert head["ContentType"] == "image/webp"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    # _env_file=None: a developer's .env must not change what the test constructs.
    return Settings(_env_file=None, data_dir=tmp_path, **overrides)


def test_settings_pick_local_storage_under_the_data_dir(tmp_path: Path) -> None:
    storage = storage_from_settings(_settings(tmp_path))
    assert isinstance(storage, LocalStorage)
    assert storage.name == "local"
    assert storage.root == tmp_path / "media"


async def test_settings_pick_s3_storage_that_reaches_the_bucket(
    tmp_path: Path, moto_url: str, bucket: str
) -> None:
    storage = storage_from_settings(
        _settings(
            tmp_path,
            media_storage="s3",
            media_s3_bucket=bucket,
            media_s3_endpoint_url=moto_url,
            media_s3_region=REGION,
            media_s3_access_key=SecretStr(ACCESS_KEY),
            media_s3_secret_key=SecretStr(SECRET_KEY),
        )
    )
    assert isinstance(storage, S3Storage)
    assert storage.name == "s3"
    assert storage.bucket == bucket
    await storage.put("tickets/1/a.png", b"via settings", "image/png")
    assert await storage.get("tickets/1/a.png") == b"via settings"


def test_settings_for_s3_without_a_bucket_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HUB_MEDIA_S3_BUCKET"):
        storage_from_settings(_settings(tmp_path, media_storage="s3"))


def test_settings_with_half_a_key_pair_are_refused(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        media_storage="s3",
        media_s3_bucket="photos",
        media_s3_access_key=SecretStr(ACCESS_KEY),
    )
    with pytest.raises(ValueError, match="must be set together"):
        storage_from_settings(settings)
