"""Feature routers, collected in the order they must see updates."""

from __future__ import annotations

from collections.abc import Collection

from aiogram import Router

from handlers import (
    admin,
    anonymous,
    balance,
    describe,
    errors,
    gallery,
    imagine,
    jobs,
    keys,
    settings,
    start,
    unknown_buttons,
)


def collect_routers(*, admin_ids: Collection[int]) -> list[Router]:
    """A fresh router per feature, in a fixed order: errors first, photo describe last.

    Messages sent on behalf of a chat stop right after errors: they belong to nobody. The
    gallery comes before the others because its rename step takes the next plain message;
    after describe, a catch-all refuses any button no other router took.
    """
    return [
        errors.create_router(),
        anonymous.create_router(),
        gallery.create_router(),
        start.create_router(),
        keys.create_router(),
        settings.create_router(),
        balance.create_router(),
        imagine.create_router(),
        jobs.create_router(),
        admin.create_router(admin_ids),
        describe.create_router(),
        unknown_buttons.create_router(),
    ]
