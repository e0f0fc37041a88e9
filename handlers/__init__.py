"""Feature routers, collected in the order they must see updates."""

from __future__ import annotations

from aiogram import Router

from handlers import describe, errors, imagine, jobs, keys, keys_group, start


def collect_routers() -> list[Router]:
    """A fresh router per feature, in a fixed order: errors first, photo describe last."""
    return [
        errors.create_router(),
        start.create_router(),
        keys.create_router(),
        keys_group.create_router(),
        imagine.create_router(),
        jobs.create_router(),
        describe.create_router(),
    ]
