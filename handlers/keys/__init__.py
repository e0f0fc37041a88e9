"""Key setup: /keys, /setkey and /delkey in private chats; in groups only a pointer there."""

from __future__ import annotations

from aiogram import Router

from handlers.keys import group, private


def create_router() -> Router:
    """The keys router: the private chats' handlers, then the groups'."""
    router = Router(name="keys")
    router.include_routers(private.create_router(), group.create_router())
    return router
