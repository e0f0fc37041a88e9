"""Feature routers, collected in the order they must see updates."""

from __future__ import annotations

from aiogram import Router


def collect_routers() -> list[Router]:
    """Every feature router, in a fixed order (the bot issue adds them)."""
    return []
