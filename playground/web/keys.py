"""What the web chat's handlers share through the aiohttp app."""

from __future__ import annotations

from aiohttp import web

from playground.telegram import FakeBotApi
from playground.web.cast import Cast
from playground.web.feed import Feed

API = web.AppKey("api", FakeBotApi)
CAST = web.AppKey("cast", Cast)
FEED = web.AppKey("feed", Feed)


def number(value: object) -> int:
    """A number from a form or JSON field; ValueError names what came instead."""
    try:
        return int(str(value))
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
