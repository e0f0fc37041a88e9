"""Editing and deleting: editMessageText/Caption/Media/ReplyMarkup, deleteMessage."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from playground.telegram.content import caption, keyboard, message_text
from playground.telegram.encode import message_json
from playground.telegram.errors import NOT_MODIFIED, bad
from playground.telegram.methods.base import Method
from playground.telegram.model import BOT_ID, Message
from playground.telegram.state import State
from playground.telegram.wire import Files, Params, int_param, upload_of

INLINE_UPLOAD = "can't upload a new file to an inline message: send a file_id or an HTTP URL"
"""Assumed text: Telegram takes only a known file or a URL as an inline message's new media."""


def _editable(state: State, params: Params) -> Message:
    inline_id = params.get("inline_message_id")
    if inline_id:
        # Only inline messages sent with a keyboard have an id the bot learns.
        where = state.inline_messages.get(str(inline_id))
        message = None if where is None else state.live(*where)
        if message is None:
            raise bad("MESSAGE_ID_INVALID")
        return message
    chat = state.target(params, sending=False)
    message = state.live(chat.id, int_param(params, "message_id", 0))
    if message is None:
        raise bad("message to edit not found")
    if not message.from_bot:
        raise bad("message can't be edited")
    return message


def _edit(state: State, old: Message, params: Params, **changes: Any) -> dict[str, Any] | bool:
    """The edited message; an edit without `reply_markup` drops the keyboard, as Telegram does."""
    markup = keyboard(params.get("reply_markup"))
    if "text" in changes or "caption" in changes:
        changes["parse_mode"] = params.get("parse_mode")
    new = replace(old, reply_markup=markup, **changes)
    if replace(new, parse_mode=old.parse_mode) == old:
        raise bad(NOT_MODIFIED)
    stored = state.store(replace(new, edits=old.edits + 1))
    # An inline message is not the bot's to see: the edit answers True.
    return True if params.get("inline_message_id") else message_json(state, stored)


def _media_of(old: Message, what: str) -> None:
    if not old.photo_sizes and old.document is None:
        raise bad(f"there is no {what} in the message to edit")


async def edit_message_text(state: State, params: Params, files: Files) -> Any:
    """editMessageText."""
    old = _editable(state, params)
    if old.text is None:
        raise bad("there is no text in the message to edit")
    text, entities = message_text(params)
    return _edit(state, old, params, text=text, entities=entities)


async def edit_message_caption(state: State, params: Params, files: Files) -> Any:
    """editMessageCaption."""
    old = _editable(state, params)
    _media_of(old, "caption")
    text, entities = caption(params)
    return _edit(state, old, params, caption=text, entities=entities)


async def edit_message_media(state: State, params: Params, files: Files) -> Any:
    """editMessageMedia: a photo or document in place of the old media."""
    old = _editable(state, params)
    inline = bool(params.get("inline_message_id"))
    if not inline:  # an inline text message may become a photo; a chat's may not
        _media_of(old, "media")
    media = params.get("media")
    if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
        raise bad("can't parse InputMedia JSON object")
    if inline and upload_of(media.get("media"), files, "media"):
        raise bad(INLINE_UPLOAD)
    text, entities = caption(media)
    content: dict[str, Any] = dict.fromkeys(("document", "document_name", "document_mime"))
    content.update(photo_sizes=(), text=None)
    if media["type"] == "photo":
        content["photo_sizes"] = state.files.bot_photo(media.get("media"), files, "photo")
    else:
        stored = state.files.bot_document(media.get("media"), files, "document")
        content.update(
            document=stored.file_id,
            document_name=stored.name,
            document_mime=stored.mime_type,
        )
    return _edit(state, old, params, caption=text, entities=entities, **content)


async def edit_message_reply_markup(state: State, params: Params, files: Files) -> Any:
    """editMessageReplyMarkup."""
    return _edit(state, _editable(state, params), params)


async def delete_message(state: State, params: Params, files: Files) -> Any:
    """deleteMessage: in groups, others' messages only as an administrator."""
    chat = state.target(params, sending=False)
    message = state.live(chat.id, int_param(params, "message_id", 0))
    if message is None:
        raise bad("message to delete not found")
    if (
        chat.type != "private"
        and not message.from_bot
        and state.members.get((chat.id, BOT_ID)) not in ("administrator", "creator")
    ):
        raise bad("message can't be deleted")
    state.store(replace(message, deleted=True))
    return True


METHODS: dict[str, Method] = {
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageMedia": edit_message_media,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
}
