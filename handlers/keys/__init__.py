"""Key setup: /keys, /setkey and /delkey in private chats; in groups only a pointer there."""

from __future__ import annotations

from aiogram import Router

from handlers.keys import group, private


def create_private_router() -> Router:
    """The private chats' key handlers (the private scope router carries the chat filter)."""
    return private.create_router()


def create_group_router() -> Router:
    """The groups' pointer to the private chat (the groups scope router carries the filter)."""
    return group.create_router()
