"""Sending: sendMessage, sendPhoto, sendDocument, sendMediaGroup, sendChatAction."""

from __future__ import annotations

from typing import Any

from playground.telegram.content import caption, message_text
from playground.telegram.encode import message_json
from playground.telegram.errors import bad
from playground.telegram.methods.base import Method, bot_message, placement, thread_of
from playground.telegram.model import BOT_ID
from playground.telegram.state import State
from playground.telegram.wire import Files, Params

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


async def send_message(state: State, params: Params, files: Files) -> Any:
    """sendMessage."""
    chat = state.target(params, sending=True)
    text, entities = message_text(params)
    return bot_message(
        state, chat, params, text=text, entities=entities, parse_mode=params.get("parse_mode")
    )


async def send_photo(state: State, params: Params, files: Files) -> Any:
    """sendPhoto: an upload or a known photo's file id."""
    chat = state.target(params, sending=True)
    text, entities = caption(params)
    sizes = state.files.bot_photo(params.get("photo"), files, "photo")
    return bot_message(
        state,
        chat,
        params,
        photo_sizes=sizes,
        caption=text,
        entities=entities,
        parse_mode=params.get("parse_mode"),
    )


async def send_document(state: State, params: Params, files: Files) -> Any:
    """sendDocument: an upload or a known document's file id."""
    chat = state.target(params, sending=True)
    text, entities = caption(params)
    stored = state.files.bot_document(params.get("document"), files, "document")
    return bot_message(
        state,
        chat,
        params,
        document=stored.file_id,
        document_name=stored.name,
        document_mime=stored.mime_type,
        caption=text,
        entities=entities,
        parse_mode=params.get("parse_mode"),
    )


async def send_media_group(state: State, params: Params, files: Files) -> Any:
    """sendMediaGroup: 2-10 photos or documents, one message each."""
    chat = state.target(params, sending=True)
    media = params.get("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad("media must be an array of 2-10 InputMedia objects")
    group = state.next_media_group_id()
    reply_to, thread_id = placement(state, chat, params)
    sent = []
    for item in media:
        if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
            raise bad("unsupported InputMedia type in the media group")
        text, entities = caption(item)
        content: dict[str, Any]
        if item["type"] == "photo":
            content = {"photo_sizes": state.files.bot_photo(item.get("media"), files, "photo")}
        else:
            stored = state.files.bot_document(item.get("media"), files, "document")
            content = {
                "document": stored.file_id,
                "document_name": stored.name,
                "document_mime": stored.mime_type,
            }
        message = state.new_message(
            chat,
            BOT_ID,
            reply_to_message_id=reply_to,
            thread_id=thread_id,
            caption=text,
            entities=entities,
            media_group_id=group,
            parse_mode=item.get("parse_mode"),
            **content,
        )
        sent.append(message_json(state, message))
    return sent


async def send_chat_action(state: State, params: Params, files: Files) -> Any:
    """sendChatAction: kept per chat, in order."""
    chat = state.target(params, sending=True)
    thread_of(state, chat, params)
    action = params.get("action")
    if action not in CHAT_ACTIONS:
        raise bad("wrong parameter action in request")
    state.actions.setdefault(chat.id, []).append(str(action))
    return True


METHODS: dict[str, Method] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendMediaGroup": send_media_group,
    "sendChatAction": send_chat_action,
}
