"""Tests of services.images on real images generated with Pillow."""

from __future__ import annotations

import io
import random
import struct
import zlib
from typing import Any

import pytest
from PIL import ExifTags, Image

from services.exceptions import ImageTooLargeError, InvalidImageError
from services.images import fit_under, inspect_image, sniff_image, telegram_photo
from services.images.detection import MAX_PIXELS
from services.images.telegram import (
    TELEGRAM_PHOTO_MAX_BYTES,
    TELEGRAM_PHOTO_MAX_RATIO,
    TELEGRAM_PHOTO_MAX_SIDES_SUM,
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def noise(size: tuple[int, int], mode: str = "RGB", *, seed: int = 0) -> Image.Image:
    """An image of random pixels, which no encoder can shrink much."""
    length = size[0] * size[1] * len(mode)
    return Image.frombytes(mode, size, random.Random(seed).randbytes(length))


def encode(im: Image.Image, image_format: str, **params: Any) -> bytes:
    """Encode `im` in memory."""
    out = io.BytesIO()
    im.save(out, image_format, **params)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    """Decode `data` fully, failing the test if it is not a valid image."""
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a `width` x `height` canvas without holding its pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def rotated_jpeg() -> bytes:
    """A 300x200 JPEG stored sideways: EXIF orientation 6 puts its red left band on top."""
    im = noise((300, 200))
    im.paste(RED, (0, 0, 60, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return encode(im, "JPEG", quality=95, exif=exif)


def pixel(im: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """The channel values of `im` at `xy`."""
    value = im.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def assert_reddish(value: tuple[int, ...]) -> None:
    """Check a decoded pixel is close to pure red."""
    r, g, b = value[:3]
    assert r > 200, value
    assert g < 60, value
    assert b < 60, value


@pytest.mark.parametrize(
    ("image_format", "mime_type"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_inspect_detects_format_and_size(image_format: str, mime_type: str) -> None:
    data = encode(noise((120, 80)), image_format)

    info = inspect_image(data)

    assert info.format == image_format
    assert info.mime_type == mime_type
    assert (info.width, info.height) == (120, 80)
    assert info.size == len(data)
    assert not info.animated
    assert not info.has_alpha


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG"])
def test_inspect_detects_animation(image_format: str) -> None:
    frames = [Image.new("RGB", (40, 30), color) for color in (RED, BLUE)]
    data = encode(frames[0], image_format, save_all=True, append_images=frames[1:], duration=100)

    info = inspect_image(data)

    assert info.format == image_format
    assert info.animated
    assert (info.width, info.height) == (40, 30)


def test_inspect_detects_png_alpha() -> None:
    data = encode(noise((64, 48), "RGBA"), "PNG")

    info = inspect_image(data)

    assert info.format == "PNG"
    assert info.has_alpha


def test_inspect_reports_mpo_as_still_jpeg() -> None:
    data = encode(noise((64, 48)), "MPO", save_all=True, append_images=[noise((64, 48), seed=1)])

    info = inspect_image(data)

    assert (info.format, info.mime_type, info.animated) == ("JPEG", "image/jpeg", False)


def test_inspect_reports_displayed_size_of_rotated_jpeg() -> None:
    info = inspect_image(rotated_jpeg())

    assert (info.width, info.height) == (200, 300)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n", id="pdf-named-jpg"),
        pytest.param(encode(noise((32, 32)), "PPM"), id="unsupported-ppm"),
        pytest.param(encode(noise((300, 200)), "JPEG")[:3000], id="truncated-jpeg"),
        pytest.param(encode(noise((300, 200)), "PNG")[:-5000], id="truncated-png"),
    ],
)
def test_every_entry_point_refuses_bad_data(data: bytes) -> None:
    with pytest.raises(InvalidImageError):
        inspect_image(data)
    with pytest.raises(InvalidImageError):
        fit_under(data, 10_000_000)
    with pytest.raises(InvalidImageError):
        telegram_photo(data)


@pytest.mark.parametrize("side", [9000, 30000])
def test_oversized_canvas_is_refused_before_decoding(side: int) -> None:
    # 9000² is over MAX_PIXELS only; 30000² is over Pillow's own bomb limit as well.
    data = png_header(side, side)

    for convert in (inspect_image, telegram_photo):
        with pytest.raises(InvalidImageError, match="too large"):
            convert(data)
    with pytest.raises(InvalidImageError, match="too large"):
        fit_under(data, 10_000_000)


def test_max_pixels_stays_below_pillow_warning_threshold() -> None:
    assert (Image.MAX_IMAGE_PIXELS or 0) > MAX_PIXELS


def test_fit_under_leaves_fitting_image_untouched() -> None:
    data = encode(noise((100, 100)), "WEBP")

    fitted = fit_under(data, len(data))

    assert fitted.data is data
    assert fitted.mime_type == "image/webp"
    assert not fitted.changed


@pytest.mark.parametrize("image_format", ["BMP", "GIF"])
def test_fit_under_reencodes_formats_vision_apis_refuse(image_format: str) -> None:
    data = encode(noise((100, 100)), image_format)

    fitted = fit_under(data, 10 * len(data))

    assert fitted.changed
    assert fitted.mime_type == "image/jpeg"
    assert decode(fitted.data).format == "JPEG"


def test_fit_under_reencodes_before_downscaling() -> None:
    data = encode(noise((1600, 1500)), "PNG", compress_level=0)
    assert len(data) > 7_000_000

    fitted = fit_under(data, 5_000_000)

    assert fitted.changed
    assert fitted.mime_type == "image/jpeg"
    assert len(fitted.data) <= 5_000_000
    out = decode(fitted.data)
    assert out.format == "JPEG"
    assert out.size == (1600, 1500)


def test_fit_under_downscales_when_quality_is_not_enough() -> None:
    data = encode(noise((1600, 1200)), "PNG", compress_level=0)

    fitted = fit_under(data, 300_000)

    assert fitted.changed
    assert len(fitted.data) <= 300_000
    out = decode(fitted.data)
    assert out.format == "JPEG"
    assert out.width < 1600
    assert out.width / out.height == pytest.approx(4 / 3, rel=0.02)


@pytest.mark.parametrize("limit", [100, 0])
def test_fit_under_raises_when_impossible(limit: int) -> None:
    data = encode(noise((400, 300)), "PNG")

    with pytest.raises(ImageTooLargeError) as caught:
        fit_under(data, limit)

    assert caught.value.limit == limit
    assert caught.value.size == len(data)


def test_fit_under_keeps_alpha_when_png_fits() -> None:
    im = Image.new("RGBA", (600, 400), (*BLUE, 0))
    im.paste((*RED, 255), (100, 100, 300, 300))
    data = encode(im, "PNG", compress_level=0)

    fitted = fit_under(data, len(data) // 10)

    assert fitted.changed
    assert fitted.mime_type == "image/png"
    out = decode(fitted.data)
    assert out.mode == "RGBA"
    assert pixel(out, (0, 0))[3] == 0
    assert pixel(out, (200, 200)) == (*RED, 255)


def test_fit_under_flattens_alpha_onto_white_when_png_is_too_big() -> None:
    im = noise((300, 200), "RGBA")
    im.putalpha(Image.new("L", im.size, 0))
    im.paste((*RED, 255), (0, 0, 100, 200))
    data = encode(im, "PNG", compress_level=0)

    fitted = fit_under(data, 20_000)

    assert fitted.mime_type == "image/jpeg"
    out = decode(fitted.data).convert("RGB")
    assert pixel(out, (250, 100)) == pytest.approx((255, 255, 255), abs=8)
    assert_reddish(pixel(out, (50, 100)))


def test_fit_under_turns_rotated_jpeg_upright() -> None:
    data = rotated_jpeg()

    fitted = fit_under(data, len(data) - 1)

    assert fitted.changed
    out = decode(fitted.data)
    assert out.size == (200, 300)
    assert_reddish(pixel(out, (100, 20)))
    assert ExifTags.Base.Orientation not in out.getexif()


def test_telegram_photo_keeps_fitting_jpeg_and_png() -> None:
    for image_format in ("JPEG", "PNG"):
        data = encode(noise((640, 480)), image_format)

        photo = telegram_photo(data)

        assert photo.data is data
        assert not photo.converted
        assert photo.mime_type == f"image/{image_format.lower()}"


@pytest.mark.parametrize("image_format", ["WEBP", "BMP", "TIFF"])
def test_telegram_photo_converts_other_formats_to_jpeg(image_format: str) -> None:
    data = encode(noise((300, 200)), image_format)

    photo = telegram_photo(data)

    assert photo.converted
    assert photo.mime_type == "image/jpeg"
    out = decode(photo.data)
    assert (out.format, out.size) == ("JPEG", (300, 200))


def test_telegram_photo_converts_alpha_webp_to_png() -> None:
    im = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    im.paste((*RED, 255), (100, 50, 200, 150))
    data = encode(im, "WEBP", lossless=True)

    photo = telegram_photo(data)

    assert photo.converted
    assert photo.mime_type == "image/png"
    out = decode(photo.data)
    assert (out.format, out.mode, out.size) == ("PNG", "RGBA", (300, 200))
    assert pixel(out, (0, 0))[3] == 0
    assert pixel(out, (150, 100)) == (*RED, 255)


def test_telegram_photo_uses_first_frame_of_animation() -> None:
    frames = [Image.new("RGB", (80, 60), color) for color in (RED, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    photo = telegram_photo(data)

    out = decode(photo.data)
    assert out.format == "JPEG"
    assert_reddish(pixel(out, (40, 30)))


@pytest.mark.parametrize("size", [(20000, 20), (20, 20000)])
def test_telegram_photo_letterboxes_extreme_ratio(size: tuple[int, int]) -> None:
    data = encode(Image.new("RGB", size, RED), "PNG")

    photo = telegram_photo(data)

    assert photo.converted
    out = decode(photo.data).convert("RGB")
    long_side, short_side = max(out.size), min(out.size)
    assert long_side <= TELEGRAM_PHOTO_MAX_RATIO * short_side
    assert long_side + short_side <= TELEGRAM_PHOTO_MAX_SIDES_SUM
    assert_reddish(pixel(out, (out.width // 2, out.height // 2)))
    assert pixel(out, (0, 0)) == pytest.approx((255, 255, 255), abs=8)


def test_telegram_photo_letterboxes_alpha_with_transparency() -> None:
    data = encode(Image.new("RGBA", (3000, 100), (*BLUE, 128)), "PNG")

    photo = telegram_photo(data)

    assert photo.mime_type == "image/png"
    out = decode(photo.data)
    assert out.size == (3000, 150)
    assert pixel(out, (0, 0))[3] == 0
    assert pixel(out, (1500, 75)) == (*BLUE, 128)


def test_telegram_photo_scales_down_too_many_pixels() -> None:
    data = encode(Image.new("RGB", (9000, 1500), BLUE), "JPEG")

    photo = telegram_photo(data)

    assert photo.converted
    out = decode(photo.data)
    assert out.size == (4096, 683)


def test_telegram_photo_brings_big_png_under_limit() -> None:
    data = encode(noise((1900, 1800)), "PNG", compress_level=0)
    assert len(data) > TELEGRAM_PHOTO_MAX_BYTES

    photo = telegram_photo(data)

    assert photo.converted
    assert photo.mime_type == "image/jpeg"
    assert len(photo.data) <= TELEGRAM_PHOTO_MAX_BYTES
    assert decode(photo.data).size == (1900, 1800)


def test_sniff_reads_the_header_only() -> None:
    whole = encode(noise((300, 200)), "WEBP")
    info = sniff_image(whole)
    assert (info.format, info.width, info.height, info.size) == ("WEBP", 300, 200, len(whole))
    # A truncated file still has its header: sniffing accepts it, a full look refuses it.
    truncated = encode(noise((300, 200)), "PNG")[:-5000]
    assert sniff_image(truncated).format == "PNG"
    with pytest.raises(InvalidImageError):
        inspect_image(truncated)
    with pytest.raises(InvalidImageError):
        sniff_image(b"%PDF-1.7 not an image")


def test_telegram_photo_refuses_a_truncated_image_it_must_convert() -> None:
    truncated = encode(noise((300, 200)), "WEBP")[:-2000]
    with pytest.raises(InvalidImageError):
        telegram_photo(truncated)
