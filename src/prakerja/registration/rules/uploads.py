"""Checks on uploaded images, with no I/O: size, magic bytes, and a real decode of the dimensions."""

from __future__ import annotations

import io
from dataclasses import dataclass

MAX_BYTES = 2 * 1024 * 1024
MIN_SIDE = 200
MAX_SIDE = 8000

_MAGIC = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}


@dataclass(frozen=True)
class CheckedImage:
    kind: str
    """``jpeg`` or ``png``, from the content, whatever the file name or declared type says."""
    width: int
    height: int


class ImageRefused(Exception):
    def __init__(self, code: str, too_large: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.too_large = too_large


def check_image(data: bytes) -> CheckedImage:
    """Refusal codes: ``empty`` (no file), ``too_large`` / ``too_wide`` (bytes / pixels), ``not_an_image``,
    ``disguised`` and ``corrupt`` (not a readable JPEG or PNG), ``too_small`` (under ``MIN_SIDE`` pixels)."""
    if not data:
        raise ImageRefused("empty")
    if len(data) > MAX_BYTES:
        raise ImageRefused("too_large", too_large=True)
    kind = next((k for magic, k in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise ImageRefused("not_an_image")
    from PIL import Image, UnidentifiedImageError  # heavy: loaded on the first photo, not by every process

    Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE
    try:
        with Image.open(io.BytesIO(data)) as image:
            if (image.format or "").lower() != kind:
                raise ImageRefused("disguised")
            width, height = image.size
            image.verify()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRefused("corrupt") from None
    if min(width, height) < MIN_SIDE:
        raise ImageRefused("too_small")
    if max(width, height) > MAX_SIDE:
        raise ImageRefused("too_wide", too_large=True)
    return CheckedImage(kind=kind, width=width, height=height)
