"""Scope routers: each carries its chat filter once, and the feature routers inside need none."""

from __future__ import annotations

from collections.abc import Collection

from aiogram import Router

from bot.filters import FromUsers, InGroupChat, InPrivateChat


def private_scope(*features: Router) -> Router:
    """Messages and button presses in private chats, offered to `features` in order."""
    router = Router(name="private")
    router.message.filter(InPrivateChat())
    router.callback_query.filter(InPrivateChat())
    router.include_routers(*features)
    return router


def groups_scope(*features: Router) -> Router:
    """Messages and button presses in groups and supergroups, offered to `features` in order."""
    router = Router(name="groups")
    router.message.filter(InGroupChat())
    router.callback_query.filter(InGroupChat())
    router.include_routers(*features)
    return router


def admins_scope(admin_ids: Collection[int], *features: Router) -> Router:
    """Messages from ADMIN_IDS, in any chat, offered to `features` in order."""
    router = Router(name="admins")
    router.message.filter(FromUsers(admin_ids))
    router.include_routers(*features)
    return router
