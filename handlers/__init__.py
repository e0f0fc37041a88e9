"""Feature routers, collected in the order they must see updates."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    balance,
    describe,
    errors,
    gallery,
    imagine,
    jobs,
    keys,
    keys_group,
    settings,
    start,
)


def collect_routers() -> list[Router]:
    """A fresh router per feature, in a fixed order: errors first, photo describe last.

    The gallery comes before the others because its rename step takes the next plain message.
    """
    return [
        errors.create_router(),
        gallery.create_router(),
        start.create_router(),
        keys.create_router(),
        keys_group.create_router(),
        settings.create_router(),
        balance.create_router(),
        imagine.create_router(),
        jobs.create_router(),
        describe.create_router(),
    ]
