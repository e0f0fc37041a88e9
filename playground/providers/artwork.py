"""What the demo providers answer: a drawn picture of the prompt, a description of a photo's
real size and colours; both say they are a demo."""

from __future__ import annotations

import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

_SIDE = 1024
_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "red": (220, 40, 40),
    "orange": (245, 140, 30),
    "yellow": (240, 220, 50),
    "green": (50, 170, 70),
    "teal": (30, 150, 150),
    "blue": (40, 90, 220),
    "navy": (20, 30, 90),
    "purple": (130, 60, 170),
    "pink": (240, 130, 180),
    "brown": (120, 75, 40),
}


def demo_picture(prompt: str, ratio: str = "1:1", *, image_format: str = "WEBP") -> bytes:
    """A picture in the ratio's shape showing the prompt and the word "demo"."""
    wide, high = (int(part) for part in ratio.split(":"))
    scale = _SIDE / max(wide, high)
    size = (round(wide * scale), round(high * scale))
    digest = hashlib.sha256(prompt.encode()).digest()
    top, bottom = (
        (digest[0], digest[1], digest[2]),
        (digest[3] // 3, digest[4] // 3, digest[5] // 3),
    )
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        mix = y / max(size[1] - 1, 1)
        colour = tuple(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (size[0], y)], fill=colour)
    big = ImageFont.load_default(size=size[1] // 5)
    text_size = max(size[1] // 11, 14)
    small = ImageFont.load_default(size=text_size)
    draw.text(
        (size[0] // 2, size[1] // 3),
        "DEMO",
        font=big,
        anchor="mm",
        fill="white",
        stroke_width=4,
        stroke_fill="black",
    )
    lines = textwrap.wrap(prompt, width=max(size[0] * 2 // text_size - 2, 10))[:4]
    draw.multiline_text(
        (size[0] // 2, size[1] * 2 // 3),
        "\n".join(lines),
        font=small,
        anchor="ma",
        align="center",
        fill="white",
        stroke_width=2,
        stroke_fill="black",
    )
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


def demo_description(data: bytes, question: str) -> str:
    """What a demo describer can truly say of an image: its size, format and main colours."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        kind = image.format or "image"
        small = image.convert("RGB")
    small.thumbnail((64, 64))
    counts: dict[str, int] = {}
    raw = small.tobytes()
    for i in range(0, len(raw), 3):
        name = _nearest((raw[i], raw[i + 1], raw[i + 2]))
        counts[name] = counts.get(name, 0) + 1
    total = sum(counts.values())
    main = sorted(counts, key=counts.__getitem__, reverse=True)[:3]
    colours = ", ".join(f"{name} ({counts[name] * 100 // total}%)" for name in main)
    return (
        f"Demo answer (no AI was asked): a {width}×{height} {kind} picture, mostly {colours}. "
        f"You asked: {question}"
    )


def _nearest(pixel: tuple[int, int, int]) -> str:
    return min(
        _COLOURS,
        key=lambda name: sum((a - b) ** 2 for a, b in zip(pixel, _COLOURS[name], strict=True)),
    )
