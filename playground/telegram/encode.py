"""The Bot API's JSON objects for users, chats, members and messages."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from playground.telegram.files import StoredFile
from playground.telegram.model import BOT_USER, Chat, MemberStatus, Message, User
from playground.telegram.state import State

_TOPIC_ICON_COLOR = 7322096
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_pin_messages",
)


def user_json(user: User) -> dict[str, Any]:
    """The Bot API User object of a played user."""
    out: dict[str, Any] = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    if user.username:
        out["username"] = user.username
    if user.language_code:
        out["language_code"] = user.language_code
    return out


def member_json(status: MemberStatus, user: Mapping[str, Any]) -> dict[str, Any]:
    """The Bot API ChatMember object for a status."""
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status != "administrator":
        return {"status": status, "user": user}
    return {
        "status": status,
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_promote_members": False,
        **dict.fromkeys(_ADMIN_RIGHTS, True),
    }


def chat_json(state: State, chat: Chat) -> dict[str, Any]:
    """The Bot API Chat object."""
    if chat.type != "private":
        out: dict[str, Any] = {
            "id": chat.id,
            "type": chat.type,
            "title": chat.title or f"Group {chat.id}",
        }
        if chat.is_forum:
            out["is_forum"] = True
        return out
    out = {"id": chat.id, "type": "private"}
    if (user := state.users.get(chat.id)) is not None:
        out["first_name"] = user.first_name
        if user.username:
            out["username"] = user.username
    return out


def message_json(state: State, m: Message, *, nested: bool = True) -> dict[str, Any]:
    """The Bot API Message object, with the message it replies to when `nested`."""
    sender = BOT_USER if m.from_bot else user_json(state.users[m.from_id])
    out: dict[str, Any] = {
        "message_id": m.message_id,
        "from": sender,
        "date": m.date,
        "chat": chat_json(state, state.chats[m.chat_id]),
    }
    if m.via_bot:
        out["via_bot"] = BOT_USER
    if m.thread_id is not None:
        out["message_thread_id"] = m.thread_id
        out["is_topic_message"] = True
    if m.topic_created is not None:
        out["forum_topic_created"] = {"name": m.topic_created, "icon_color": _TOPIC_ICON_COLOR}
    entities = [e.to_json() for e in m.entities]
    if m.text is not None:
        out["text"] = m.text
        if entities:
            out["entities"] = entities
    if m.caption is not None:
        out["caption"] = m.caption
        if entities:
            out["caption_entities"] = entities
    if m.photo_sizes:
        out["photo"] = [photo_size_json(state.files.by_id[fid]) for fid in m.photo_sizes]
    if m.document is not None:
        stored = state.files.by_id[m.document]
        out["document"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_name": m.document_name,
            "mime_type": m.document_mime,
            "file_size": len(stored.data),
        }
    if m.media_group_id is not None:
        out["media_group_id"] = m.media_group_id
    if m.reply_markup:
        out["reply_markup"] = {
            "inline_keyboard": [[b.to_json() for b in row] for row in m.reply_markup]
        }
    if m.edits:
        out["edit_date"] = int(time.time())
    if nested and (target := _replied(state, m)) is not None:
        out["reply_to_message"] = message_json(state, target, nested=False)
    return out


def _replied(state: State, m: Message) -> Message | None:
    """The message shown as replied to: a topic's plain messages reply to its opening one."""
    if m.reply_to_message_id is not None:
        return state.live(m.chat_id, m.reply_to_message_id)
    if m.thread_id is not None and m.topic_created is None:
        return state.messages.get((m.chat_id, m.thread_id))
    return None


def photo_size_json(stored: StoredFile) -> dict[str, Any]:
    """The Bot API PhotoSize object."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.unique_id,
        "width": stored.width,
        "height": stored.height,
        "file_size": len(stored.data),
    }
