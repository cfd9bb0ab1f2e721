"""Checking an uploaded file: is it really an image of an allowed type and a sane size."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from io import BytesIO

from PIL import Image

from core.media.errors import MediaRejected

logger = logging.getLogger("hub.media")

# A phone photo is 12-50 megapixels; anything past this is a decompression bomb, not
# evidence of a pothole. Pillow's own guard only starts at about 89 megapixels.
MAX_PIXELS = 50_000_000

# Pillow is asked only about these formats (plus any the settings allow): its other
# plugins include EPS, which hands the file to Ghostscript, and exotic decoders that
# have had more vulnerabilities than the common ones.
_SNIFFED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# Phones save stereo and depth shots as MPO: a plain JPEG with more frames appended, which
# every viewer shows as its first frame.
_FORMAT_TYPES = {"MPO": "image/jpeg"}
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
}


@dataclass(frozen=True, slots=True)
class CheckedImage:
    """An image that passed the checks, described by what it is, not what it claimed."""

    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    extension: str


def checked_image(
    data: bytes,
    *,
    declared_type: str | None,
    max_bytes: int,
    allowed_types: tuple[str, ...],
    max_pixels: int = MAX_PIXELS,
) -> CheckedImage:
    """Returns the image's real type and size, or raises MediaRejected."""
    if not data:
        raise MediaRejected("the file is empty", "empty")
    # Before any decoding, so an oversized upload costs nothing but the read.
    if len(data) > max_bytes:
        raise MediaRejected(f"the file is larger than {max_bytes} bytes", "too_large")

    image_format, width, height = _sniff(data, allowed_types=allowed_types)
    content_type = _FORMAT_TYPES.get(image_format) or Image.MIME.get(
        image_format, f"image/{image_format.lower()}"
    )
    if content_type not in allowed_types:
        raise MediaRejected(f"{content_type} is not an allowed type", "type_not_allowed")
    if width * height > max_pixels:
        raise MediaRejected(f"{width}x{height} is too many pixels", "too_many_pixels")

    # Browsers and phones label files by extension, so a mismatch is common and harmless:
    # the bytes decide.
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared and declared != content_type:
        logger.debug("declared %s but the file is %s", declared, content_type)
    return CheckedImage(
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
        extension=_EXTENSIONS.get(content_type, image_format.lower()),
    )


def _sniff(data: bytes, *, allowed_types: tuple[str, ...]) -> tuple[str, int, int]:
    formats = set(_SNIFFED_FORMATS)
    formats.update(name for name, mime in Image.MIME.items() if mime in allowed_types)
    try:
        # Opening reads the header only; Pillow refuses outright past twice its own limit
        # and merely warns below that, where our MAX_PIXELS check refuses instead.
        with Image.open(BytesIO(data), formats=sorted(formats)) as image:
            image_format, (width, height) = image.format or "", image.size
            # Checks the structure (PNG chunk checksums and the like) without decoding
            # pixels, so it stays cheap even for an image with absurd dimensions.
            image.verify()
    except Image.DecompressionBombError:
        raise MediaRejected("the image has too many pixels", "too_many_pixels") from None
    # Decoders fail on hostile input in many ways (OSError, SyntaxError, struct.error...);
    # each means the same thing here.
    except Exception:
        raise MediaRejected("the file is not a readable image", "not_an_image") from None
    if not image_format:
        raise MediaRejected("the file is not a readable image", "not_an_image")
    return image_format, width, height
