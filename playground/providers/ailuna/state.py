"""What the fake AiLuna knows (keys, images, the document's vocabulary) and how it behaves."""

from __future__ import annotations

import asyncio
import io
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image

from playground.providers.ailuna.canned import Canned

KEY_ALICE = "alice-0123456789abcdef0123456789abcdef"
KEY_BOB = "bob-fedcba9876543210fedcba9876543210"

RESOLUTIONS = ("256x256", "512x512", "1024x1024")
STYLES = (
    "3d_render",
    "abstract",
    "anime",
    "art_deco",
    "cartoon",
    "digital_art",
    "illustration",
    "origami",
    "pixel_art",
    "photography",
    "pop_art",
    "retro",
    "sketch",
    "vaporwave",
)
MEDIUMS = (
    "acrylic",
    "canvas",
    "chalk",
    "charcoal",
    "crayon",
    "glass",
    "ink",
    "pastel",
    "pencil",
    "spray_paint",
    "watercolor",
)
FILTERS = ("grayscale", "sepia", "invert")
# The lists are copied from the document, not imported from the client, so a typo there fails here.

Route = Literal["list", "show", "store", "update", "delete", "storage"]
LinkField = Literal["url", "image_url", "path"]


def make_png(
    width: int = 16, height: int = 12, color: tuple[int, int, int] = (40, 90, 200)
) -> bytes:
    """Real PNG bytes made with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


@dataclass
class FakeImage:
    """One image as the fake stores it."""

    id: int
    owner: str
    name: str
    description: str
    resolution: str
    style: str | None = None
    medium: str | None = None
    filter: str | None = None
    favorite: bool = False
    pending_shows: int = 0
    """Shows left that answer `url: null` (the image is still being made)."""


@dataclass
class AiLunaState:
    """What the fake knows and how it is told to behave."""

    keys: set[str] = field(default_factory=lambda: {KEY_ALICE, KEY_BOB})
    images: dict[int, FakeImage] = field(default_factory=dict)
    next_id: int = 1
    pending_shows: int = 0
    """How many shows of a newly stored image answer without a link."""
    link_field: LinkField = "url"
    """Where the link goes; `path` holds a path relative to the site."""
    link_base: str | None = None
    """Origin of absolute links (a CDN); None means the fake's own origin."""
    bare: bool = False
    """Resources without the `data` wrapper, lists as a bare array."""
    delete_json: bool = False
    """Answer a delete with 200 and JSON instead of 204."""
    update_empty: bool = False
    """Answer an update with 204 and no body."""
    png: bytes = field(default_factory=make_png)
    script: dict[str, deque[Canned]] = field(default_factory=dict)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server shuts down, so hanging handlers end."""

    def fail(self, route: Route, *answers: Canned) -> None:
        """Queue answers that replace the next normal ones on `route`, in order."""
        self.script.setdefault(route, deque()).extend(answers)

    def add(self, owner: str, name: str, **fields: Any) -> FakeImage:
        """Store an image directly, as if made earlier (no link pending unless told)."""
        fields.setdefault("description", f"a picture of {name}")
        fields.setdefault("resolution", "1024x1024")
        image = FakeImage(id=self.next_id, owner=owner, name=name, **fields)
        self.images[image.id] = image
        self.next_id += 1
        return image
