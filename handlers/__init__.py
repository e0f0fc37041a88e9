"""Feature routers inside their scope routers, collected in the order they must see updates."""

from __future__ import annotations

from collections.abc import Collection

from aiogram import Router

from handlers import (
    admin,
    anonymous,
    balance,
    describe,
    gallery,
    imagine,
    inline,
    jobs,
    keys,
    settings,
    start,
    unexpected,
    unknown_buttons,
)
from handlers.scopes import admins_scope, groups_scope, private_scope


def collect_routers(*, admin_ids: Collection[int]) -> list[Router]:
    """Fresh routers in a fixed order: unexpected errors first, photo describe last.

    Messages sent on behalf of a chat stop right after the errors router: they belong to
    nobody. The private scope comes next with the gallery first, because its rename step takes
    the next plain message. Features that serve any chat follow; after describe, a catch-all
    refuses any button no other router took.
    """
    return [
        unexpected.create_router(),
        anonymous.create_router(),
        private_scope(gallery.create_private_router(), keys.create_private_router()),
        groups_scope(gallery.create_group_router(), keys.create_group_router()),
        start.create_router(),
        settings.create_router(),
        balance.create_router(),
        imagine.create_router(),
        inline.create_router(),
        jobs.create_router(),
        admins_scope(admin_ids, admin.create_router()),
        describe.create_router(),
        unknown_buttons.create_router(),
    ]
