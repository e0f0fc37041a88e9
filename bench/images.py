"""Images of realistic size: what Imagen 3 hands back, and what a phone sends to Telegram."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageFilter


def _picture(width: int, height: int, *, seed: int) -> Image.Image:
    # Blurred noise compresses like a photo: neither a flat colour nor incompressible static.
    rng = random.Random(seed)  # noqa: S311 - pixels, not secrets
    small = Image.frombytes(
        "RGB", (width // 4, height // 4), rng.randbytes(width * height * 3 // 16)
    )
    return small.resize((width, height), Image.Resampling.BICUBIC).filter(
        ImageFilter.GaussianBlur(2)
    )


def result_image() -> bytes:
    """A 1024x1024 WebP (about 270 KB), as GPTunnel's storage serves Imagen 3 results."""
    out = io.BytesIO()
    _picture(1024, 1024, seed=7).save(out, "WEBP", quality=90)
    return out.getvalue()


def result_jpeg() -> bytes:
    """The same picture as a JPEG, which Telegram takes as a photo as it is (no conversion)."""
    out = io.BytesIO()
    _picture(1024, 1024, seed=7).save(out, "JPEG", quality=90)
    return out.getvalue()


def user_photo() -> bytes:
    """A 1280x960 JPEG (about 320 KB): the largest size Telegram keeps of a phone photo."""
    out = io.BytesIO()
    _picture(1280, 960, seed=11).save(out, "JPEG", quality=87)
    return out.getvalue()
