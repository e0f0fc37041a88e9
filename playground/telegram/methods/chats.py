"""Chat and member queries: getChat, getChatMember."""

from __future__ import annotations

from typing import Any

from playground.telegram.encode import chat_json, member_json, user_json
from playground.telegram.errors import bad
from playground.telegram.methods.base import Method
from playground.telegram.model import BOT_ID, BOT_USER, MemberStatus
from playground.telegram.state import State
from playground.telegram.wire import Files, Params, int_param


async def get_chat(state: State, params: Params, files: Files) -> Any:
    """getChat: the ChatFullInfo of a known chat."""
    chat = state.target(params, sending=False)
    return {
        **chat_json(state, chat),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


async def get_chat_member(state: State, params: Params, files: Files) -> Any:
    """getChatMember: the bot is a member of its chats; users as added or as they wrote."""
    chat = state.target(params, sending=False)
    user_id = int_param(params, "user_id", 0)
    if user_id == BOT_ID:
        user = BOT_USER
    elif user_id in state.users:
        user = user_json(state.users[user_id])
    else:
        raise bad("user not found")
    if chat.type == "private":
        if user_id not in (chat.id, BOT_ID):
            raise bad("user not found")
        status: MemberStatus = "member"
    else:
        status = state.members.get((chat.id, user_id), "member" if user_id == BOT_ID else "left")
    return member_json(status, user)


METHODS: dict[str, Method] = {"getChat": get_chat, "getChatMember": get_chat_member}
