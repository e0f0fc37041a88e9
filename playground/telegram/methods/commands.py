"""The command menu: setMyCommands, deleteMyCommands, getMyCommands, per scope and language."""

from __future__ import annotations

import re
from typing import Any

from playground.telegram.errors import bad
from playground.telegram.methods.base import Method
from playground.telegram.state import State
from playground.telegram.wire import Files, Params

_BOT_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")

ScopeKey = tuple[str, int | None, int | None, str]
"""Scope type, chat id, user id, language code."""


def scope_key(params: Params) -> ScopeKey:
    """Where a menu applies, from a call's scope and language_code."""
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict):
        raise bad("can't parse BotCommandScope JSON object")
    chat_id = scope.get("chat_id")
    user_id = scope.get("user_id")
    return (
        str(scope.get("type", "default")),
        None if chat_id is None else int(chat_id),
        None if user_id is None else int(user_id),
        str(params.get("language_code") or ""),
    )


async def set_my_commands(state: State, params: Params, files: Files) -> Any:
    """setMyCommands, every command checked as Telegram checks it."""
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad("commands must be an array of at most 100 BotCommand objects")
    menu: list[dict[str, str]] = []
    for item in commands:
        name = item.get("command") if isinstance(item, dict) else None
        description = item.get("description") if isinstance(item, dict) else None
        if not isinstance(name, str) or not _BOT_COMMAND_NAME.match(name):
            raise bad("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        menu.append({"command": name, "description": description})
    state.commands[scope_key(params)] = menu
    return True


async def delete_my_commands(state: State, params: Params, files: Files) -> Any:
    """deleteMyCommands."""
    state.commands.pop(scope_key(params), None)
    return True


async def get_my_commands(state: State, params: Params, files: Files) -> Any:
    """getMyCommands."""
    return state.commands.get(scope_key(params), [])


METHODS: dict[str, Method] = {
    "setMyCommands": set_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getMyCommands": get_my_commands,
}
