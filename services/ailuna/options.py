"""AiLuna's name and the values its API accepts, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence

from services.base import SingleSecretCredential
from services.exceptions import BadRequestError, InvalidOptionError

PROVIDER = "ailuna"

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
SEARCH_BY = ("name",)
PER_PAGE = (10, 25, 50, 100)
SORT_BY = ("id", "name")
SORT = ("desc", "asc")

DEFAULT_PER_PAGE = 25
"""The page size the provider uses when none is asked for (its document says so)."""

NAME_MAX = 60
"""Longest image name `submit` derives from a prompt (the bot's product decision)."""


class AiLunaCredential(SingleSecretCredential):
    """An AiLuna API key, sent as a Bearer token."""

    provider = PROVIDER
    fields = ("api_key",)


def short_name(prompt: str) -> str:
    """An image name from a prompt: whitespace collapsed, cut at a word to NAME_MAX characters."""
    text = " ".join(prompt.split())
    if len(text) <= NAME_MAX:
        return text
    cut = text[: NAME_MAX - 1]
    # Cut at the last space unless that would throw away more than half of the name.
    space = cut.rfind(" ")
    if space >= NAME_MAX // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def checked(option: str, value: str, allowed: Sequence[str]) -> str:
    """`value` if the provider accepts it for `option`, else InvalidOptionError."""
    if value not in allowed:
        raise InvalidOptionError(provider=PROVIDER, option=option, value=value, allowed=allowed)
    return value


def non_empty(field: str, value: str) -> str:
    """`value` unless it is blank (BadRequestError)."""
    if not value.strip():
        raise BadRequestError(f"{field} is empty", provider=PROVIDER)
    return value


def flag(value: bool) -> str:
    """A boolean as the provider's query or form takes it."""
    # Laravel's `boolean` rule accepts "1"/"0" in a query or form; "true"/"false" it does not.
    return "1" if value else "0"
