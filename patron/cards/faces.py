"""Uploaded card face images: checked to be a PNG or JPEG of sensible size, stored under
PATRON_DATA_DIR/uploads/card-faces/ with a random name, served back only by that name."""

from __future__ import annotations

import re
import struct
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

FOLDER = "card-faces"
MAX_BYTES = 2 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 16, 4096
NAME = re.compile(r"card-faces/(?P<file>[0-9a-f]{32}\.(?:png|jpg))")
TYPES = {"png": "image/png", "jpg": "image/jpeg"}


class BadImage(ValueError):
    pass


def _png_size(head: bytes) -> tuple[int, int] | None:
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    if data[:3] != b"\xff\xd8\xff":
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        # Start-of-frame markers carry the size (not DHT C4, JPG C8, DAC CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None


def checked(upload: UploadedFile) -> tuple[bytes, str]:
    """The file's bytes and extension; anything but a PNG or JPEG of sensible size raises."""
    if upload.size is None or upload.size > MAX_BYTES:
        raise BadImage(_("The image may be at most 2 MB."))
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise BadImage(_("The image may be at most 2 MB."))
    for ext, size in (("png", _png_size(data[:24])), ("jpg", _jpeg_size(data))):
        if size is not None:
            width, height = size
            if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                raise BadImage(
                    _("The image must be between %(min)d and %(max)d pixels on each side.")
                    % {"min": MIN_SIDE, "max": MAX_SIDE}
                )
            return data, ext
    raise BadImage(_("Upload a PNG or JPEG image."))


def folder() -> Path:
    return Path(settings.MEDIA_ROOT) / FOLDER


def store(data: bytes, ext: str) -> str:
    """Write the image under a random name; returns the name the product keeps."""
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.{ext}"
    (target / name).write_bytes(data)
    return f"{FOLDER}/{name}"


def path_of(name: str) -> tuple[Path, str] | None:
    """The stored file and its content type for a product's `face_image`; None for anything
    this module did not write (a URL, another path, a name that was tampered with)."""
    found = NAME.fullmatch(name or "")
    if found is None:
        return None
    path = folder() / found["file"]
    if not path.is_file():
        return None
    return path, TYPES[found["file"].rsplit(".", 1)[1]]
