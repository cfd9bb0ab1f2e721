"""Checking uploads: real images made with Pillow, and files that only pretend to be."""

from __future__ import annotations

import hashlib
import struct
import zlib
from io import BytesIO
from typing import Any

import pytest
from PIL import Image

from core.media.errors import MediaRejected
from core.media.validate import MAX_PIXELS, CheckedImage, checked_image

ALLOWED = ("image/jpeg", "image/png", "image/webp")
MAX_BYTES = 10 * 1024 * 1024


def image_bytes(image_format: str, size: tuple[int, int] = (64, 48), **options: object) -> bytes:
    """Returns a small real image in the given Pillow format."""
    buffer = BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format=image_format, **options)
    return buffer.getvalue()


def blank_png(width: int, height: int) -> bytes:
    """Returns a valid 1-bit PNG of any size, compressed row by row: a tiny file of many pixels.

    Built by hand because Pillow keeps one byte per pixel in memory, and a 400-megapixel
    image would take 400 MB just to make the test file.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = bytes(1 + (width + 7) // 8)  # filter byte, then the packed bits
    compressor = zlib.compressobj(9)
    compressed = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", compressed)
        + chunk(b"IEND", b"")
    )


def check(data: bytes, *, declared_type: str | None = None, **overrides: Any) -> CheckedImage:
    options: dict[str, Any] = {"max_bytes": MAX_BYTES, "allowed_types": ALLOWED, **overrides}
    return checked_image(data, declared_type=declared_type, **options)


@pytest.mark.parametrize(
    ("image_format", "content_type", "extension"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")],
)
def test_real_images_are_accepted(image_format: str, content_type: str, extension: str) -> None:
    data = image_bytes(image_format, (64, 48))
    image = check(data, declared_type=content_type)
    assert image == CheckedImage(
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=64,
        height=48,
        extension=extension,
    )


@pytest.mark.parametrize("declared_type", ["image/jpeg", "image/png; charset=binary", "text/plain"])
def test_a_declared_type_that_lies_is_corrected(declared_type: str) -> None:
    image = check(image_bytes("WEBP"), declared_type=declared_type)
    assert (image.content_type, image.extension) == ("image/webp", "webp")


def test_no_declared_type_is_fine() -> None:
    assert check(image_bytes("PNG"), declared_type=None).content_type == "image/png"


def test_a_phone_mpo_photo_is_a_jpeg() -> None:
    buffer = BytesIO()
    first, second = Image.new("RGB", (32, 32), "red"), Image.new("RGB", (32, 32), "blue")
    first.save(buffer, format="MPO", save_all=True, append_images=[second])
    image = check(buffer.getvalue(), declared_type="image/jpeg")
    assert (image.content_type, image.extension, image.width) == ("image/jpeg", "jpg", 32)


def rejection(data: bytes, **overrides: Any) -> str:
    with pytest.raises(MediaRejected) as caught:
        check(data, **overrides)
    return caught.value.code


def test_a_gif_is_not_an_allowed_type() -> None:
    assert rejection(image_bytes("GIF"), declared_type="image/gif") == "type_not_allowed"


def test_a_type_becomes_acceptable_when_the_settings_allow_it() -> None:
    image = check(image_bytes("GIF"), allowed_types=(*ALLOWED, "image/gif"))
    assert (image.content_type, image.extension) == ("image/gif", "gif")


def test_a_png_refused_when_only_jpeg_is_allowed() -> None:
    code = rejection(image_bytes("PNG"), allowed_types=("image/jpeg",))
    assert code == "type_not_allowed"


@pytest.mark.parametrize(
    "data",
    [
        b"this is a complaint about a pothole, not a photo",
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
        # A PostScript file must not even reach Pillow's EPS plugin (and Ghostscript).
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
        image_bytes("PNG")[:40],
    ],
    ids=["text", "pdf", "eps", "truncated-png"],
)
def test_files_that_are_not_images_are_refused(data: bytes) -> None:
    assert rejection(data, declared_type="image/jpeg") == "not_an_image"


def test_a_png_with_a_damaged_chunk_is_refused() -> None:
    data = bytearray(image_bytes("PNG"))
    data[-20] ^= 0xFF  # inside the IDAT data, so its checksum no longer matches
    assert rejection(bytes(data)) == "not_an_image"


def test_an_empty_file_is_refused() -> None:
    assert rejection(b"") == "empty"


def test_an_oversized_file_is_refused_before_decoding() -> None:
    # Not an image at all: had it been decoded, the refusal would say not_an_image.
    assert rejection(b"\0" * 2049, max_bytes=2048) == "too_large"


def test_a_file_at_the_limit_is_accepted() -> None:
    data = image_bytes("PNG")
    assert check(data, max_bytes=len(data)).size == len(data)


def test_a_decompression_bomb_is_refused() -> None:
    data = blank_png(20_000, 20_000)  # 400 megapixels in well under a megabyte
    assert len(data) < 1024 * 1024
    assert rejection(data) == "too_many_pixels"


def test_an_image_just_over_our_pixel_limit_is_refused() -> None:
    # Below Pillow's own warning threshold, so only our limit stands in the way.
    assert rejection(blank_png(8_000, 8_000)) == "too_many_pixels"
    assert MAX_PIXELS < 8_000 * 8_000


def test_the_pixel_limit_can_be_lowered() -> None:
    data = blank_png(300, 200)
    assert check(data).width == 300
    assert rejection(data, max_pixels=300 * 200 - 1) == "too_many_pixels"
