"""A loopback fake of the Telegram Bot API: a real aiogram Bot talks to it, tests play the users."""

# Checked as the real API checks them, so tests catch what Telegram would refuse: the token, chat
# and message ids, text and caption lengths, Telegram's HTML subset (Markdown modes are stored
# unchecked), inline keyboards (callback_data of 1-64 bytes), photo size and dimensions, the 20 MB
# getFile limit and "message is not modified". Stored `text`/`caption` are what the user sees
# (markup parsed, `&lt;` decoded). An edit without `reply_markup` drops the keyboard, as Telegram
# does. In groups the bot may delete others' messages only after
# `add_member(chat, BOT, "administrator")`. Undocumented error texts are assumed: photos over
# 10 MB answer "PHOTO_SAVE_FILE_INVALID", undecodable photos "IMAGE_PROCESS_FAILED".

from __future__ import annotations

import asyncio
import email.message
import io
import itertools
import json
import logging
import mimetypes
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web
from PIL import Image

from tests.fakes.telegram_text import ApiError, Entity, parse_html, utf16_len

logger = logging.getLogger(__name__)

BOT_USER: dict[str, Any] = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Iris",
    "username": "iris_test_bot",
}
BOT_ID = 4242

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
"""getFile refuses larger files, as the cloud Bot API does."""
MAX_UPLOAD = 50 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024
THUMB_SIDE = 90

ChatType = Literal["private", "group", "supergroup"]
MemberStatus = Literal["member", "administrator", "creator", "left"]

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
_CHAT_ACTIONS = frozenset(
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
# Form values that stay strings; every other one is JSON (numbers, booleans, objects) as aiogram
# encodes it.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "action",
        "callback_query_id",
        "file_id",
        "language_code",
        "url",
        "photo",
        "document",
        "inline_message_id",
        "emoji",
        "business_connection_id",
        "message_effect_id",
    }
)
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")
_MENTION = re.compile(r"(?<![A-Za-z0-9_@/])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")
_BOT_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API call as the fake read it; `error` is the description it answered, if any."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    error: str | None = None

    def file(self, name: str) -> UploadedFile | None:
        """The upload a parameter refers to, by `attach://` or as the part of that name."""
        value = self.params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value.removeprefix("attach://"))
        return self.files.get(name)


@dataclass(frozen=True, slots=True)
class User:
    """A Telegram user played by a test."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None


BOT = User(id=BOT_ID, first_name="Iris", username="iris_test_bot")


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat; a private chat has the id of its user."""

    id: int
    type: ChatType = "private"
    title: str | None = None

    @classmethod
    def private(cls, user: User) -> Chat:
        """The private chat of this user with the bot."""
        return cls(id=user.id, type="private")


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button (other kinds keep only their text)."""

    text: str
    callback_data: str | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The Bot API InlineKeyboardButton object."""
        out: dict[str, Any] = {"text": self.text}
        if self.callback_data is not None:
            out["callback_data"] = self.callback_data
        if self.url is not None:
            out["url"] = self.url
        return out


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Message:
    """A message as stored; edits and deletion replace the record in the store."""

    message_id: int
    chat_id: int
    from_id: int
    date: int
    text: str | None = None
    caption: str | None = None
    entities: tuple[Entity, ...] = ()
    """Of the text, or of the caption."""
    photo_sizes: tuple[str, ...] = ()
    """File ids, smallest first."""
    document: str | None = None
    document_name: str | None = None
    document_mime: str | None = None
    reply_markup: Keyboard = ()
    reply_to_message_id: int | None = None
    parse_mode: str | None = None
    media_group_id: str | None = None
    deleted: bool = False
    edits: int = 0

    @property
    def from_bot(self) -> bool:
        """Whether the bot sent it."""
        return self.from_id == BOT_ID

    @property
    def photo(self) -> str | None:
        """The file id of the largest photo size."""
        return self.photo_sizes[-1] if self.photo_sizes else None

    @property
    def buttons(self) -> list[Button]:
        """The inline keyboard's buttons, row by row."""
        return [button for row in self.reply_markup for button in row]


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """What the bot said with answerCallbackQuery."""

    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True, slots=True)
class _File:
    file_id: str
    unique_id: str
    path: str
    data: bytes
    kind: Literal["photo", "document"]
    width: int = 0
    height: int = 0
    name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class _Picture:
    width: int
    height: int
    ext: str
    thumb: bytes
    thumb_width: int
    thumb_height: int


@dataclass(frozen=True, slots=True)
class _Fault:
    code: int
    description: str
    retry_after: int | None


@dataclass(frozen=True, slots=True)
class _Hold:
    method: str
    where: Callable[[ApiCall], bool] | None
    release: asyncio.Event


Params = dict[str, Any]
Files = dict[str, UploadedFile]
_Method = Callable[[Params, Files], Awaitable[Any]]


class FakeBotApi:
    """The Bot API for one token: message store, files, long polling, users and fault injection."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[ApiCall] = []
        self.errors: list[str] = []
        """Exceptions inside the fake's handlers (answered 500): protocol surprises."""
        self.downloads: list[str] = []
        """File paths downloaded from /file/bot<token>/."""
        self.polled = asyncio.Event()
        """Set when a getUpdates call starts waiting."""
        self._tick = asyncio.Event()
        self._cursor = 0
        self._closing = False
        self._poll_generation = 0
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._query_ids = itertools.count(1_000_000_001)
        self._group_ids = itertools.count(1)
        self._messages: dict[tuple[int, int], Message] = {}
        self._files: dict[str, _File] = {}
        self._paths: dict[str, _File] = {}
        self._photo_sets: dict[str, tuple[str, ...]] = {}
        """Every photo size's file id to all sizes of that photo."""
        self._users: dict[int, User] = {}
        self._chats: dict[int, Chat] = {}
        self._members: dict[tuple[int, int], MemberStatus] = {}
        self._blocked: set[int] = set()
        self.webhook: str | None = None
        """The URL setWebhook registered, if any."""
        self._actions: dict[int, list[str]] = {}
        self._commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self._open_queries: set[str] = set()
        self._answers: dict[str, CallbackAnswer] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._drops: dict[str, int] = {}
        self._holds: list[_Hold] = []
        self._methods: dict[str, _Method] = {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageMedia": self._edit_message_media,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }
        self._by_lower = {name.lower(): name for name in self._methods}

    # --- serving -------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp app serving /bot<token>/<method> and /file/bot<token>/<path>."""
        app = web.Application(client_max_size=MAX_UPLOAD + 8 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_startup(self, _: web.Application) -> None:
        self._closing = False

    async def _on_shutdown(self, _: web.Application) -> None:
        # Hanging long polls return at once, so the server stops without waiting for them.
        self._closing = True
        self._changed()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        asked = request.match_info["method"]
        method = self._by_lower.get(asked.lower(), asked)
        try:
            params, files = await _read_params(request)
        except Exception as e:
            logger.exception("fake Bot API could not read a %s request", method)
            return self._crashed(ApiCall(method, {}), None, e)
        # Recorded on arrival, so a long poll shows while it waits; the outcome is filled in after.
        call = ApiCall(method, params, files)
        self.calls.append(call)
        index = len(self.calls) - 1
        self._changed()
        if self._drops.get(method):
            self._drops[method] -= 1
            return self._drop(request, index, "connection dropped")
        hold = self._take_hold(call)
        if hold is not None:
            await self._wait(lambda: hold.is_set() or self._closing, 3600)
            if request.transport is None or request.transport.is_closing():
                # The caller died while the call was held: it is never carried out.
                return self._drop(request, index, "caller gone")
        try:
            result = await self._answer(method, params, files)
        except ApiError as e:
            self.calls[index] = replace(call, error=e.description)
            self._changed()
            return _error_response(e)
        except Exception as e:
            logger.exception("fake Bot API failed on %s", method)
            return self._crashed(call, index, e)
        self._changed()
        return web.json_response({"ok": True, "result": result})

    async def _answer(self, method: str, params: Params, files: Files) -> Any:
        handler = self._methods.get(method)
        if handler is None:
            raise ApiError(404, "Not Found")
        if fault := self._take_fault(method):
            raise ApiError(fault.code, fault.description, retry_after=fault.retry_after)
        return await handler(params, files)

    def _crashed(self, call: ApiCall, index: int | None, error: Exception) -> web.Response:
        """A 500 for a bug or a protocol surprise, kept in `errors` for the test to see."""
        description = f"Internal Server Error: {error}"
        self.errors.append(f"{call.method}: {error!r}")
        if index is None:
            self.calls.append(replace(call, error=description))
        else:
            self.calls[index] = replace(call, error=description)
        self._changed()
        return _error_response(ApiError(500, description))

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        stored = self._paths.get(request.match_info["path"])
        if stored is None:
            return _error_response(ApiError(404, "Not Found"))
        self.downloads.append(stored.path)
        self._changed()
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _changed(self) -> None:
        # A fresh Event per change lets synchronous code wake every waiter without a lock.
        self._tick.set()
        self._tick = asyncio.Event()

    async def _wait(self, ready: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not ready():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._tick.wait(), remaining)
            except TimeoutError:
                return ready()
        return True

    # --- fault injection and test-side state ---------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` answer this error instead of working."""
        if method not in self._methods:
            raise ValueError(f"the fake does not implement {method}")
        queue = self._faults.setdefault(method, deque())
        queue.extend(_Fault(error_code, description, retry_after) for _ in range(times))

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        return queue.popleft() if queue else None

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` get no answer: the connection is closed."""
        if method not in self._methods:
            raise ValueError(f"the fake does not implement {method}")
        self._drops[method] = self._drops.get(method, 0) + times

    def hold_next(
        self, method: str, *, where: Callable[[ApiCall], bool] | None = None
    ) -> asyncio.Event:
        """The next matching call is recorded, then waits unanswered until the event is set.

        A held call whose caller has gone by then (a killed process) is never carried out.
        """
        if method not in self._methods:
            raise ValueError(f"the fake does not implement {method}")
        release = asyncio.Event()
        self._holds.append(_Hold(method, where, release))
        return release

    def _take_hold(self, call: ApiCall) -> asyncio.Event | None:
        for hold in self._holds:
            if hold.method == call.method and (hold.where is None or hold.where(call)):
                self._holds.remove(hold)
                return hold.release
        return None

    def _drop(self, request: web.Request, index: int, reason: str) -> web.Response:
        self.calls[index] = replace(self.calls[index], error=reason)
        self._changed()
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=499)  # never reaches the caller

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sending to them answers 403 until they write again."""
        self._blocked.add(user_id)

    def add_member(self, chat: Chat, user: User, status: MemberStatus = "member") -> None:
        """Make the user (or `BOT`) a member of the chat; for a private chat: register it."""
        self._enter(user, chat)
        self._members[(chat.id, user.id)] = status

    def called(self, method: str) -> bool:
        """Whether the method was called at all."""
        return any(call.method == method for call in self.calls)

    def calls_of(self, method: str) -> list[ApiCall]:
        """The calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def message(self, chat_id: int, message_id: int) -> Message:
        """The current record of a message (KeyError if it never existed)."""
        return self._messages[(chat_id, message_id)]

    def bot_messages(self, chat_id: int) -> list[Message]:
        """The bot's messages in a chat that are not deleted, oldest first."""
        return [
            m
            for m in self._messages.values()
            if m.chat_id == chat_id and m.from_bot and not m.deleted
        ]

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a stored file."""
        return self._files[file_id].data

    def chat_actions(self, chat_id: int) -> list[str]:
        """The chat actions the bot sent to a chat, in order."""
        return list(self._actions.get(chat_id, ()))

    def commands(
        self,
        scope_type: str = "default",
        language_code: str = "",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, str]]:
        """The command menu set for a scope and language (empty if none)."""
        return list(self._commands.get((scope_type, chat_id, user_id, language_code), []))

    def answers(self, query_id: str) -> CallbackAnswer | None:
        """What answerCallbackQuery said to a pressed button, if it was answered."""
        return self._answers.get(query_id)

    def mark(self) -> int:
        """Set the cursor of `wait_for` to now; returns the number of calls so far."""
        self._cursor = len(self.calls)
        return self._cursor

    async def wait_for(
        self,
        method: str,
        *,
        where: Callable[[ApiCall], bool] | None = None,
        after: int | None = None,
        timeout: float = 10,
    ) -> ApiCall:
        """The first matching call made after `after` (default: the last `mark()`, else 0)."""
        start = self._cursor if after is None else after

        def found() -> ApiCall | None:
            for call in self.calls[start:]:
                if call.method == method and (where is None or where(call)):
                    return call
            return None

        if not await self._wait(lambda: found() is not None, timeout):
            seen = [call.method for call in self.calls[start:] if call.method != "getUpdates"]
            raise TimeoutError(f"no matching {method} after call #{start} in {timeout} s: {seen}")
        call = found()
        assert call is not None
        return call

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 10) -> None:
        """Wait until the predicate holds; re-checked on every call, update and download."""
        if not await self._wait(predicate, timeout):
            raise TimeoutError(f"condition still false after {timeout} s")

    # --- playing users -------------------------------------------------------------------------

    def send_text(
        self, user: User, chat: Chat, text: str, *, reply_to: int | None = None
    ) -> Message:
        """The user sends a text message (commands and mentions marked as Telegram does)."""
        return self._from_user(user, chat, reply_to, text=text, entities=user_entities(text))

    def send_photo(
        self,
        user: User,
        chat: Chat,
        data: bytes,
        *,
        caption: str | None = None,
        reply_to: int | None = None,
        media_group_id: str | None = None,
    ) -> Message:
        """The user sends a photo: a thumbnail and the full image (these exact bytes)."""
        return self._from_user(
            user,
            chat,
            reply_to,
            photo_sizes=self._save_photo(data, _picture(data)),
            caption=caption,
            entities=user_entities(caption or ""),
            media_group_id=media_group_id,
        )

    def send_document(
        self,
        user: User,
        chat: Chat,
        data: bytes,
        *,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> Message:
        """The user sends a file as a document."""
        stored = self._save_document(data, name=file_name, mime_type=mime_type)
        return self._from_user(
            user,
            chat,
            reply_to,
            document=stored.file_id,
            document_name=file_name,
            document_mime=mime_type,
            caption=caption,
            entities=user_entities(caption or ""),
        )

    def send_media_group(
        self, user: User, chat: Chat, photos: Sequence[bytes], *, caption: str | None = None
    ) -> list[Message]:
        """The user sends an album: one update per photo, the caption on the first."""
        group = str(13_000_000_000 + next(self._group_ids))
        return [
            self.send_photo(
                user, chat, data, caption=caption if i == 0 else None, media_group_id=group
            )
            for i, data in enumerate(photos)
        ]

    def press(self, user: User, message: Message, callback_data: str) -> str:
        """The user presses a button of a bot message; returns the callback query id."""
        current = self._messages.get((message.chat_id, message.message_id))
        if current is None or current.deleted or not current.from_bot:
            raise ValueError("only a bot message that still exists has buttons to press")
        if callback_data not in {b.callback_data for b in current.buttons}:
            raise ValueError(f"message {current.message_id} has no button {callback_data!r}")
        return self.press_data(user, current, callback_data)

    def press_data(self, user: User, message: Message, data: str) -> str:
        """A press carrying any data, as a tampering client sends it; the callback query id."""
        current = self.message(message.chat_id, message.message_id)
        chat = self._chats[current.chat_id]
        self._enter(user, chat)
        query_id = str(next(self._query_ids))
        self._open_queries.add(query_id)
        self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": _user_json(user),
                    "message": self._message_json(current),
                    "chat_instance": str(-chat.id),
                    "data": data,
                }
            }
        )
        return query_id

    def _from_user(self, user: User, chat: Chat, reply_to: int | None, **content: Any) -> Message:
        self._enter(user, chat)
        if chat.type == "private":
            self._blocked.discard(user.id)  # writing to the bot unblocks it
        if reply_to is not None:
            target = self._messages.get((chat.id, reply_to))
            if target is None or target.deleted:
                raise ValueError(f"no message {reply_to} in chat {chat.id} to reply to")
        message = self._store(
            Message(
                message_id=next(self._message_ids),
                chat_id=chat.id,
                from_id=user.id,
                date=int(time.time()),
                reply_to_message_id=reply_to,
                **content,
            )
        )
        self._enqueue({"message": self._message_json(message)})
        return message

    def _enter(self, user: User, chat: Chat) -> None:
        if chat.type == "private" and user.id not in (chat.id, BOT_ID):
            raise ValueError(f"user {user.id} is not the user of private chat {chat.id}")
        if user.id != BOT_ID:
            self._users[user.id] = user
        self._chats[chat.id] = chat
        if chat.type != "private":
            self._members.setdefault((chat.id, user.id), "member")

    def _enqueue(self, payload: dict[str, Any]) -> None:
        self._pending.append({"update_id": next(self._update_ids), **payload})
        self._changed()

    def _store(self, message: Message) -> Message:
        self._messages[(message.chat_id, message.message_id)] = message
        return message

    # --- JSON shapes ---------------------------------------------------------------------------

    def _chat_json(self, chat: Chat) -> dict[str, Any]:
        if chat.type != "private":
            return {"id": chat.id, "type": chat.type, "title": chat.title or f"Group {chat.id}"}
        out: dict[str, Any] = {"id": chat.id, "type": "private"}
        if (user := self._users.get(chat.id)) is not None:
            out["first_name"] = user.first_name
            if user.username:
                out["username"] = user.username
        return out

    def _message_json(self, m: Message, *, nested: bool = True) -> dict[str, Any]:
        sender = BOT_USER if m.from_bot else _user_json(self._users[m.from_id])
        out: dict[str, Any] = {
            "message_id": m.message_id,
            "from": sender,
            "date": m.date,
            "chat": self._chat_json(self._chats[m.chat_id]),
        }
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
            out["photo"] = [self._photo_size_json(self._files[fid]) for fid in m.photo_sizes]
        if m.document is not None:
            stored = self._files[m.document]
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
        if nested and m.reply_to_message_id is not None:
            target = self._messages.get((m.chat_id, m.reply_to_message_id))
            if target is not None and not target.deleted:
                out["reply_to_message"] = self._message_json(target, nested=False)
        return out

    @staticmethod
    def _photo_size_json(stored: _File) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "width": stored.width,
            "height": stored.height,
            "file_size": len(stored.data),
        }

    # --- files ---------------------------------------------------------------------------------

    def _save(
        self, data: bytes, *, kind: Literal["photo", "document"], ext: str, **meta: Any
    ) -> _File:
        n = next(self._file_numbers)
        folder = "photos" if kind == "photo" else "documents"
        stored = _File(
            file_id=f"{'AgAC' if kind == 'photo' else 'BQAC'}-{n:06d}",
            unique_id=f"AQAD{n:06d}",
            path=f"{folder}/file_{n}{ext}",
            data=data,
            kind=kind,
            **meta,
        )
        self._files[stored.file_id] = stored
        self._paths[stored.path] = stored
        return stored

    def _save_photo(self, data: bytes, picture: _Picture) -> tuple[str, ...]:
        thumb = self._save(
            picture.thumb,
            kind="photo",
            ext=".jpg",
            width=picture.thumb_width,
            height=picture.thumb_height,
        )
        full = self._save(
            data, kind="photo", ext=picture.ext, width=picture.width, height=picture.height
        )
        sizes = (thumb.file_id, full.file_id)
        self._photo_sets.update(dict.fromkeys(sizes, sizes))
        return sizes

    def _save_document(self, data: bytes, *, name: str, mime_type: str) -> _File:
        ext = match.group() if (match := _EXTENSION.search(name)) else ""
        return self._save(data, kind="document", ext=ext, name=name, mime_type=mime_type)

    def _bot_photo(self, value: Any, files: Files, what: str) -> tuple[str, ...]:
        """A photo the bot sends: an upload (checked as Telegram does) or a known file id."""
        upload = _upload(value, files, what)
        if upload is None:
            return self._photo_sets[self._known_file(value, "photo").file_id]
        if len(upload.data) > MAX_PHOTO:
            raise _bad("PHOTO_SAVE_FILE_INVALID")
        try:
            picture = _picture(upload.data)
        except ValueError:
            raise _bad("IMAGE_PROCESS_FAILED") from None
        w, h = picture.width, picture.height
        if w + h > 10_000 or max(w, h) > 20 * min(w, h):
            raise _bad("PHOTO_INVALID_DIMENSIONS")
        return self._save_photo(upload.data, picture)

    def _bot_document(self, value: Any, files: Files, what: str) -> _File:
        """A document the bot sends: an upload or a known file id."""
        upload = _upload(value, files, what)
        if upload is None:
            return self._known_file(value, "document")
        if len(upload.data) > MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        mime = mimetypes.guess_type(upload.filename)[0] or upload.content_type
        return self._save_document(upload.data, name=upload.filename, mime_type=mime)

    def _known_file(self, value: Any, kind: str) -> _File:
        if not isinstance(value, str) or value not in self._files:
            raise _bad("wrong file identifier/HTTP URL specified")
        stored = self._files[value]
        if stored.kind != kind:
            raise _bad("type of file mismatch")
        return stored

    # --- methods -------------------------------------------------------------------------------

    async def _get_me(self, params: Params, files: Files) -> Any:
        return {
            **BOT_USER,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _delete_webhook(self, params: Params, files: Files) -> Any:
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        self.webhook = None
        return True

    async def _set_webhook(self, params: Params, files: Files) -> Any:
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: an HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        self.webhook = url
        return True

    async def _get_updates(self, params: Params, files: Files) -> Any:
        offset = _int(params, "offset", 0)
        limit = min(max(_int(params, "limit", 100), 1), 100)
        timeout = max(_int(params, "timeout", 0), 0)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self.polled.set()
        await self._wait(
            lambda: bool(self._pending) or self._closing or self._poll_generation != generation,
            timeout,
        )
        if self._poll_generation != generation:
            raise ApiError(409, _CONFLICT)
        return self._pending[:limit]

    async def _send_message(self, params: Params, files: Files) -> Any:
        chat = self._target(params, sending=True)
        text, entities = _formatted(params, "text", "entities", MAX_TEXT, "message is too long")
        if not text.strip():
            raise _bad("message text is empty")
        return self._bot_message(
            chat, params, text=text, entities=entities, parse_mode=params.get("parse_mode")
        )

    async def _send_photo(self, params: Params, files: Files) -> Any:
        chat = self._target(params, sending=True)
        caption, entities = _caption(params)
        sizes = self._bot_photo(params.get("photo"), files, "photo")
        return self._bot_message(
            chat,
            params,
            photo_sizes=sizes,
            caption=caption,
            entities=entities,
            parse_mode=params.get("parse_mode"),
        )

    async def _send_document(self, params: Params, files: Files) -> Any:
        chat = self._target(params, sending=True)
        caption, entities = _caption(params)
        stored = self._bot_document(params.get("document"), files, "document")
        return self._bot_message(
            chat,
            params,
            document=stored.file_id,
            document_name=stored.name,
            document_mime=stored.mime_type,
            caption=caption,
            entities=entities,
            parse_mode=params.get("parse_mode"),
        )

    async def _send_media_group(self, params: Params, files: Files) -> Any:
        chat = self._target(params, sending=True)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("media must be an array of 2-10 InputMedia objects")
        group = str(13_000_000_000 + next(self._group_ids))
        reply_to = self._reply_to(chat, params)
        sent = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
                raise _bad("unsupported InputMedia type in the media group")
            caption, entities = _caption(item)
            content: dict[str, Any]
            if item["type"] == "photo":
                content = {"photo_sizes": self._bot_photo(item.get("media"), files, "photo")}
            else:
                stored = self._bot_document(item.get("media"), files, "document")
                content = {
                    "document": stored.file_id,
                    "document_name": stored.name,
                    "document_mime": stored.mime_type,
                }
            message = self._new_bot_message(
                chat,
                reply_to=reply_to,
                caption=caption,
                entities=entities,
                media_group_id=group,
                parse_mode=item.get("parse_mode"),
                **content,
            )
            sent.append(self._message_json(message))
        return sent

    async def _send_chat_action(self, params: Params, files: Files) -> Any:
        chat = self._target(params, sending=True)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._actions.setdefault(chat.id, []).append(str(action))
        return True

    async def _edit_message_text(self, params: Params, files: Files) -> Any:
        old = self._editable(params)
        if old.text is None:
            raise _bad("there is no text in the message to edit")
        text, entities = _formatted(params, "text", "entities", MAX_TEXT, "message is too long")
        if not text.strip():
            raise _bad("message text is empty")
        return self._edit(old, params, text=text, entities=entities)

    async def _edit_message_caption(self, params: Params, files: Files) -> Any:
        old = self._editable(params)
        if not old.photo_sizes and old.document is None:
            raise _bad("there is no caption in the message to edit")
        caption, entities = _caption(params)
        return self._edit(old, params, caption=caption, entities=entities)

    async def _edit_message_media(self, params: Params, files: Files) -> Any:
        old = self._editable(params)
        if not old.photo_sizes and old.document is None:
            raise _bad("there is no media in the message to edit")
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
            raise _bad("can't parse InputMedia JSON object")
        caption, entities = _caption(media)
        content: dict[str, Any] = dict.fromkeys(("document", "document_name", "document_mime"))
        content["photo_sizes"] = ()
        if media["type"] == "photo":
            content["photo_sizes"] = self._bot_photo(media.get("media"), files, "photo")
        else:
            stored = self._bot_document(media.get("media"), files, "document")
            content.update(
                document=stored.file_id,
                document_name=stored.name,
                document_mime=stored.mime_type,
            )
        return self._edit(old, params, caption=caption, entities=entities, **content)

    async def _edit_message_reply_markup(self, params: Params, files: Files) -> Any:
        return self._edit(self._editable(params), params)

    async def _delete_message(self, params: Params, files: Files) -> Any:
        chat = self._target(params, sending=False)
        message = self._messages.get((chat.id, _int(params, "message_id", 0)))
        if message is None or message.deleted:
            raise _bad("message to delete not found")
        if (
            chat.type != "private"
            and not message.from_bot
            and self._members.get((chat.id, BOT_ID)) not in ("administrator", "creator")
        ):
            raise _bad("message can't be deleted")
        self._store(replace(message, deleted=True))
        return True

    async def _answer_callback_query(self, params: Params, files: Files) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise _bad(_QUERY_INVALID)
        self._open_queries.discard(query_id)
        text = params.get("text")
        url = params.get("url")
        self._answers[query_id] = CallbackAnswer(
            text=None if text is None else str(text),
            show_alert=params.get("show_alert") is True,
            url=None if url is None else str(url),
        )
        return True

    async def _get_file(self, params: Params, files: Files) -> Any:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data),
            "file_path": stored.path,
        }

    async def _set_my_commands(self, params: Params, files: Files) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand objects")
        menu: list[dict[str, str]] = []
        for item in commands:
            name = item.get("command") if isinstance(item, dict) else None
            description = item.get("description") if isinstance(item, dict) else None
            if not isinstance(name, str) or not _BOT_COMMAND_NAME.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            menu.append({"command": name, "description": description})
        self._commands[_scope_key(params)] = menu
        return True

    async def _delete_my_commands(self, params: Params, files: Files) -> Any:
        self._commands.pop(_scope_key(params), None)
        return True

    async def _get_my_commands(self, params: Params, files: Files) -> Any:
        return self._commands.get(_scope_key(params), [])

    async def _get_chat(self, params: Params, files: Files) -> Any:
        chat = self._target(params, sending=False)
        return {
            **self._chat_json(chat),
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

    async def _get_chat_member(self, params: Params, files: Files) -> Any:
        chat = self._target(params, sending=False)
        user_id = _int(params, "user_id", 0)
        if user_id == BOT_ID:
            user_json = BOT_USER
        elif user_id in self._users:
            user_json = _user_json(self._users[user_id])
        else:
            raise _bad("user not found")
        if chat.type == "private":
            if user_id not in (chat.id, BOT_ID):
                raise _bad("user not found")
            status: MemberStatus = "member"
        else:
            status = self._members.get(
                (chat.id, user_id), "member" if user_id == BOT_ID else "left"
            )
        return _member_json(status, user_json)

    # --- helpers of the methods ----------------------------------------------------------------

    def _target(self, params: Params, *, sending: bool) -> Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str) and re.fullmatch(r"-?[0-9]+", chat_id):
            chat_id = int(chat_id)
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _bad("chat not found")
        if sending and chat.type == "private" and chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _reply_to(self, chat: Chat, params: Params) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = reply.get("allow_sending_without_reply") is True
        else:
            message_id = params.get("reply_to_message_id")
            allow = params.get("allow_sending_without_reply") is True
        if message_id is None:
            return None
        target = self._messages.get((chat.id, int(message_id)))
        if target is None or target.deleted:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return target.message_id

    def _new_bot_message(self, chat: Chat, **content: Any) -> Message:
        return self._store(
            Message(
                message_id=next(self._message_ids),
                chat_id=chat.id,
                from_id=BOT_ID,
                date=int(time.time()),
                **content,
            )
        )

    def _bot_message(self, chat: Chat, params: Params, **content: Any) -> dict[str, Any]:
        keyboard = _keyboard(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        message = self._new_bot_message(
            chat, reply_to_message_id=reply_to, reply_markup=keyboard, **content
        )
        return self._message_json(message)

    def _editable(self, params: Params) -> Message:
        if params.get("inline_message_id"):
            raise _bad("message to edit not found")
        chat = self._target(params, sending=False)
        message = self._messages.get((chat.id, _int(params, "message_id", 0)))
        if message is None or message.deleted:
            raise _bad("message to edit not found")
        if not message.from_bot:
            raise _bad("message can't be edited")
        return message

    def _edit(self, old: Message, params: Params, **changes: Any) -> dict[str, Any]:
        keyboard = _keyboard(params.get("reply_markup"))
        if "text" in changes or "caption" in changes:
            changes["parse_mode"] = params.get("parse_mode")
        new = replace(old, reply_markup=keyboard, **changes)
        if replace(new, parse_mode=old.parse_mode) == old:
            raise _bad(_NOT_MODIFIED)
        return self._message_json(self._store(replace(new, edits=old.edits + 1)))


# --- request parsing ---------------------------------------------------------------------------


async def _read_params(request: web.Request) -> tuple[Params, Files]:
    """Query string, form, multipart or JSON parameters, decoded as the Bot API reads them."""
    raw: dict[str, str] = dict(request.query)
    files: Files = {}
    if request.method == "POST":
        body = await request.read()  # cached: a recording middleware may have read it already
        if request.content_type == "application/json":
            decoded = json.loads(body or b"{}")
            if not isinstance(decoded, dict):
                raise _bad("parameters must be a JSON object")
            return {**raw, **decoded}, files
        if request.content_type == "multipart/form-data":
            boundary = _header_param(request.headers["Content-Type"], "content-type", "boundary")
            for name, upload, value in _multipart(body, boundary):
                if upload is not None:
                    files[name] = upload
                else:
                    raw[name] = value
        else:
            raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    return {key: _decode(key, value) for key, value in raw.items()}, files


def _decode(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _header_param(header: str, name: str, param: str) -> str:
    holder = email.message.Message()
    holder[name] = header
    value = holder.get_param(param, header=name)
    if not isinstance(value, str):
        raise _bad(f"no {param} in {name}")
    return value


def _multipart(body: bytes, boundary: str) -> Iterator[tuple[str, UploadedFile | None, str]]:
    """(name, upload or None, text value) for each part of a multipart/form-data body."""
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            return
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = email.message_from_bytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise _bad("multipart part without a name")
        filename = headers.get_filename()
        if filename is None:
            yield name, None, data.decode()
        else:
            content_type = headers.get("content-type", "application/octet-stream")
            yield name, UploadedFile(filename, str(content_type), data), ""


def _int(params: Params, key: str, default: int) -> int:
    value = params.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(f"wrong {key} specified") from None


def _upload(value: Any, files: Files, what: str) -> UploadedFile | None:
    """The uploaded file a parameter names, or None when it is a file id."""
    if isinstance(value, str) and value.startswith("attach://"):
        upload = files.get(value.removeprefix("attach://"))
        if upload is None:
            raise _bad(f"there is no {what} in the request")
        return upload
    if what in files and value is None:
        return files[what]
    if value is None or value == "":
        raise _bad(f"there is no {what} in the request")
    return None


def _scope_key(params: Params) -> tuple[str, int | None, int | None, str]:
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict):
        raise _bad("can't parse BotCommandScope JSON object")
    chat_id = scope.get("chat_id")
    user_id = scope.get("user_id")
    return (
        str(scope.get("type", "default")),
        None if chat_id is None else int(chat_id),
        None if user_id is None else int(user_id),
        str(params.get("language_code") or ""),
    )


def _error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.code,
        "description": error.description,
    }
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.code)


# --- content -----------------------------------------------------------------------------------


def _user_json(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    if user.username:
        out["username"] = user.username
    if user.language_code:
        out["language_code"] = user.language_code
    return out


def _member_json(status: MemberStatus, user: Mapping[str, Any]) -> dict[str, Any]:
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status != "administrator":
        return {"status": status, "user": user}
    rights = [
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
    ]
    return {
        "status": status,
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_promote_members": False,
        **dict.fromkeys(rights, True),
    }


def user_entities(text: str) -> tuple[Entity, ...]:
    """The entities Telegram adds to a user's text: bot commands and @mentions."""
    found = [
        Entity(kind, utf16_len(text[: m.start()]), utf16_len(m.group()))
        for kind, pattern in (("bot_command", _COMMAND), ("mention", _MENTION))
        for m in pattern.finditer(text)
    ]
    return tuple(sorted(found, key=lambda e: e.offset))


def _formatted(
    params: Mapping[str, Any], key: str, entities_key: str, limit: int, too_long: str
) -> tuple[str, tuple[Entity, ...]]:
    """The visible text of a parameter and its entities, after parse_mode."""
    raw = params.get(key)
    source = "" if raw is None else str(raw)
    mode = params.get("parse_mode")
    if mode is None or mode == "":
        text, entities = source, tuple(_entity(e) for e in params.get(entities_key) or ())
    elif str(mode).lower() == "html":
        text, entities = parse_html(source)
    elif str(mode).lower() in ("markdown", "markdownv2"):
        text, entities = source, ()
    else:
        raise _bad("unsupported parse_mode")
    if len(text) > limit:
        raise _bad(too_long)
    return text, entities


def _caption(params: Mapping[str, Any]) -> tuple[str | None, tuple[Entity, ...]]:
    caption, entities = _formatted(
        params, "caption", "caption_entities", MAX_CAPTION, "message caption is too long"
    )
    return (caption or None), entities


def _entity(value: Any) -> Entity:
    if not isinstance(value, dict):
        raise _bad("can't parse MessageEntity JSON object")
    try:
        return Entity(
            type=str(value["type"]),
            offset=int(value["offset"]),
            length=int(value["length"]),
            url=value.get("url"),
            language=value.get("language"),
            custom_emoji_id=value.get("custom_emoji_id"),
        )
    except (KeyError, TypeError, ValueError):
        raise _bad("can't parse MessageEntity JSON object") from None


def _keyboard(markup: Any) -> Keyboard:
    """The inline keyboard of a reply_markup, checked as Telegram checks it."""
    if markup is None or markup == "":
        return ()
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return ()  # a reply keyboard, force_reply or remove_keyboard: not part of the message
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    return tuple(tuple(_button(b) for b in row) for row in rows if row)


def _button(value: Any) -> Button:
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    data = value.get("callback_data")
    url = value.get("url")
    if data is not None and not 1 <= len(str(data).encode()) <= 64:
        raise _bad("BUTTON_DATA_INVALID")
    if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
        raise _bad("BUTTON_URL_INVALID")
    if data is None and url is None and len(value) == 1:
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    return Button(
        text=value["text"],
        callback_data=None if data is None else str(data),
        url=None if url is None else str(url),
    )


def _picture(data: bytes) -> _Picture:
    """Dimensions, file extension and a small JPEG thumbnail of an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            ext = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}.get(image.format or "", ".jpg")
            thumb = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError("not an image Telegram can read") from e
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    out = io.BytesIO()
    thumb.save(out, format="JPEG")
    return _Picture(width, height, ext, out.getvalue(), thumb.width, thumb.height)
