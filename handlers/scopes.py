"""Scope routers: each carries its chat filter once, and the feature routers inside need none."""

from __future__ import annotations

from collections.abc import Collection

from aiogram import Router
from aiogram.filters import Filter

from bot.filters import FromUsers, InGroupChat, InPrivateChat


def private_scope(*features: Router) -> Router:
    """Messages and button presses in private chats, offered to `features` in order."""
    return _chat_scope("private", InPrivateChat(), features)


def groups_scope(*features: Router) -> Router:
    """Messages and button presses in groups and supergroups, offered to `features` in order."""
    return _chat_scope("groups", InGroupChat(), features)


def _chat_scope(name: str, chat: Filter, features: tuple[Router, ...]) -> Router:
    router = Router(name=name)
    router.message.filter(chat)
    router.callback_query.filter(chat)
    router.include_routers(*features)
    return router


def admins_scope(admin_ids: Collection[int], *features: Router) -> Router:
    """Messages from ADMIN_IDS, in any chat, offered to `features` in order."""
    router = Router(name="admins")
    router.message.filter(FromUsers(admin_ids))
    router.include_routers(*features)
    return router
