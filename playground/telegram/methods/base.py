"""What the method families share: their signature, and where a sent message lands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from playground.telegram.content import keyboard
from playground.telegram.encode import message_json
from playground.telegram.errors import THREAD_NOT_FOUND, bad
from playground.telegram.model import BOT_ID, Chat
from playground.telegram.state import State
from playground.telegram.wire import Files, Params, int_param

Method = Callable[[State, Params, Files], Awaitable[Any]]
"""A Bot API method: the state, the call's parameters and uploads; the `result` it answers."""


def thread_of(state: State, chat: Chat, params: Params) -> int | None:
    """The topic `message_thread_id` names: in a forum it must exist; elsewhere it is ignored."""
    if params.get("message_thread_id") is None or not chat.is_forum:
        return None
    thread_id = int_param(params, "message_thread_id", 0)
    if (chat.id, thread_id) not in state.topics:
        raise bad(THREAD_NOT_FOUND)
    return thread_id


def placement(state: State, chat: Chat, params: Params) -> tuple[int | None, int | None]:
    """The message a sent message replies to and the topic it lands in.

    A reply lands in the topic of the message it answers; a message without one lands in the
    topic `message_thread_id` names, or in General.
    """
    thread_id = thread_of(state, chat, params)
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow = reply.get("allow_sending_without_reply") is True
    else:
        message_id = params.get("reply_to_message_id")
        allow = params.get("allow_sending_without_reply") is True
    if message_id is None:
        return None, thread_id
    target = state.live(chat.id, int(message_id))
    if target is None:
        if allow:
            return None, thread_id
        raise bad("message to be replied not found")
    return target.message_id, thread_id if target.thread_id is None else target.thread_id


def bot_message(state: State, chat: Chat, params: Params, **content: Any) -> dict[str, Any]:
    """Store what the bot sends (keyboard, reply and topic from the call); its JSON."""
    markup = keyboard(params.get("reply_markup"))
    reply_to, thread_id = placement(state, chat, params)
    message = state.new_message(
        chat,
        BOT_ID,
        reply_to_message_id=reply_to,
        thread_id=thread_id,
        reply_markup=markup,
        **content,
    )
    return message_json(state, message)
