"""Messages and command menus as the page shows them."""

from __future__ import annotations

from typing import Any

from playground.telegram import BOT, Message
from playground.telegram.state import State

_SNIPPET = 80


def file_url(file_id: str) -> str:
    """Where the page downloads a stored file."""
    return f"/api/file/{file_id}"


def message_view(state: State, m: Message) -> dict[str, Any]:
    """One message: sender, content, buttons, the message it replies to."""
    out: dict[str, Any] = {
        "chat": m.chat_id,
        "id": m.message_id,
        "from": _sender(state, m),
        "date": m.date,
        "text": m.text,
        "caption": m.caption,
        "entities": [e.to_json() for e in m.entities],
        "album": m.media_group_id,
        "edited": m.edits > 0,
        "via_bot": m.via_bot,
        "buttons": [
            [{"text": b.text, "data": b.callback_data, "url": b.url} for b in row]
            for row in m.reply_markup
        ],
        "photo": None,
        "document": None,
        "reply_to": None,
    }
    if m.photo is not None:
        stored = state.files.by_id[m.photo]
        out["photo"] = {"url": file_url(m.photo), "width": stored.width, "height": stored.height}
    if m.document is not None:
        stored = state.files.by_id[m.document]
        out["document"] = {
            "url": file_url(m.document),
            "name": m.document_name,
            "mime": m.document_mime,
            "size": len(stored.data),
        }
    if m.reply_to_message_id is not None:
        target = state.messages.get((m.chat_id, m.reply_to_message_id))
        if target is not None:
            out["reply_to"] = {
                "id": target.message_id,
                "from": _sender(state, target)["name"],
                "snippet": _snippet(target),
            }
    return out


def _sender(state: State, m: Message) -> dict[str, Any]:
    if m.from_bot:
        return {"id": BOT.id, "name": BOT.first_name, "bot": True}
    user = state.users[m.from_id]
    return {"id": user.id, "name": user.first_name, "bot": False}


def _snippet(m: Message) -> str:
    if m.deleted:
        return "deleted message"
    text = m.text or m.caption or ("Photo" if m.photo else "File" if m.document else "")
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def menu(state: State, chat_id: int, chat_type: str, language: str) -> list[dict[str, str]]:
    """The command menu Telegram shows there: the narrowest scope set, in the user's language
    if the bot set one for it, else without a language."""
    general = "all_private_chats" if chat_type == "private" else "all_group_chats"
    for scope in (("chat", chat_id, None), (general, None, None), ("default", None, None)):
        for code in (language, ""):
            commands = state.commands.get((*scope, code))
            if commands:
                return commands
    return []
