"""Where photos are kept: a folder under the data directory, or an S3-compatible bucket."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.media.errors import MediaNotFound

if TYPE_CHECKING:
    from core.config import Settings

# One alphabet for every backend, so a key that works on a laptop also works on S3 and a
# key can never name a path outside the storage root.
_KEY_PATTERN = re.compile(r"[a-z0-9._-]+(?:/[a-z0-9._-]+)*")
# S3 limits keys to 1024 bytes; refusing longer ones here keeps the backends alike.
_KEY_MAX_LENGTH = 1024
_S3_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class Storage(Protocol):
    """A flat key-value store for media bytes."""

    name: str

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Stores the bytes under the key, replacing what was there."""
        ...

    async def get(self, key: str) -> bytes:
        """Returns the bytes stored under the key, or raises MediaNotFound."""
        ...

    async def delete(self, key: str) -> None:
        """Removes the key; removing a missing key is not an error."""
        ...


def check_key(key: str) -> str:
    """Returns the key if it is a safe storage key, otherwise raises ValueError."""
    if (
        len(key) > _KEY_MAX_LENGTH
        or _KEY_PATTERN.fullmatch(key) is None
        # "a..b" is harmless, but refusing every ".." is simpler to reason about.
        or ".." in key
        or any(part == "." for part in key.split("/"))
    ):
        raise ValueError(f"invalid media key: {key!r}")
    return key


class LocalStorage:
    """Keeps each object as a file under ``root``."""

    name: str = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Stores the bytes under the key, replacing what was there."""
        await asyncio.to_thread(_write_atomically, self._path(key), data)

    async def get(self, key: str) -> bytes:
        """Returns the bytes stored under the key, or raises MediaNotFound."""
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MediaNotFound(key) from None

    async def delete(self, key: str) -> None:
        """Removes the key; removing a missing key is not an error."""
        path = self._path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)


def _write_atomically(path: Path, data: bytes) -> None:
    # A reader (or a crash) must never see half a photo: write a temporary file in the
    # same folder, flush it to disk, then rename over the key in one step.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class S3Storage:
    """Keeps each object in an S3-compatible bucket (AWS, MinIO, Yandex Object Storage...)."""

    name: str = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        config = Config(
            connect_timeout=10,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            # Self-hosted S3 servers rarely have wildcard DNS for virtual-host buckets.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        # A client of its own session: boto3's default session is not safe to share
        # between the threads that asyncio.to_thread uses, but a client is.
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Stores the bytes under the key, replacing what was there."""
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=check_key(key),
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes:
        """Returns the bytes stored under the key, or raises MediaNotFound."""
        check_key(key)
        try:
            return await asyncio.to_thread(self._read, key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _S3_MISSING_CODES:
                raise MediaNotFound(key) from None
            raise

    def _read(self, key: str) -> bytes:
        # The body is a socket stream, so it is read in the worker thread as well.
        response = self._client.get_object(Bucket=self.bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    async def delete(self, key: str) -> None:
        """Removes the key; removing a missing key is not an error."""
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=check_key(key))


def storage_from_settings(settings: Settings) -> Storage:
    """Returns the storage chosen by ``settings.media_storage``."""
    if settings.media_storage == "local":
        return LocalStorage(settings.data_dir / "media")
    if not settings.media_s3_bucket:
        raise ValueError("HUB_MEDIA_S3_BUCKET must be set when HUB_MEDIA_STORAGE is s3")
    access_key, secret_key = settings.media_s3_access_key, settings.media_s3_secret_key
    # Half a key pair would silently fall back to boto3's own credential chain.
    if (access_key is None) != (secret_key is None):
        raise ValueError("HUB_MEDIA_S3_ACCESS_KEY and HUB_MEDIA_S3_SECRET_KEY must be set together")
    return S3Storage(
        bucket=settings.media_s3_bucket,
        endpoint_url=settings.media_s3_endpoint_url,
        region=settings.media_s3_region,
        access_key=access_key.get_secret_value() if access_key else None,
        secret_key=secret_key.get_secret_value() if secret_key else None,
    )
