"""A fake AiLuna images API: per-key image stores, Laravel-style answers, scriptable failures."""

from playground.providers.ailuna.app import make_app, make_cdn_app
from playground.providers.ailuna.canned import (
    Canned,
    cut,
    forbidden,
    hang,
    malformed,
    plan_limit,
    rate_limited,
    server_error,
)
from playground.providers.ailuna.state import KEY_ALICE, KEY_BOB, AiLunaState, make_png

__all__ = [
    "KEY_ALICE",
    "KEY_BOB",
    "AiLunaState",
    "Canned",
    "cut",
    "forbidden",
    "hang",
    "make_app",
    "make_cdn_app",
    "make_png",
    "malformed",
    "plan_limit",
    "rate_limited",
    "server_error",
]
