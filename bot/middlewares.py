"""Outer middlewares: who the user is, whether they may use the bot, and how often."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.filters import may_carry_key
from bot.i18n import pick_language
from bot.jobs.buttons import InlineStart, JobAction, JobButton
from bot.storage.interfaces import Users
from bot.telegram import delete_quietly

ALBUMS_REMEMBERED = 1000
"""Albums remembered per process, so the memory stays bounded however many albums arrive."""


class AlbumMemo:
    """The albums (media groups) already seen, newest last, at most `capacity` of them."""

    def __init__(self, *, capacity: int = ALBUMS_REMEMBERED) -> None:
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._capacity = capacity

    def first(self, chat_id: int, media_group_id: str) -> bool:
        """True the first time an album is seen in a chat, False for its other photos."""
        key = (chat_id, media_group_id)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


class AlbumOrderMiddleware(BaseMiddleware):
    """Marks each album message with whether it is its album's first, as updates arrive.

    Registered before any middleware that awaits: updates start in the order Telegram sent
    them, and only up to their first await does that order hold.
    """

    def __init__(self, memo: AlbumMemo) -> None:
        self._memo = memo

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        message = event.message if isinstance(event, Update) else None
        if message is not None and message.media_group_id is not None:
            data["album_first"] = self._memo.first(message.chat.id, message.media_group_id)
        return await handler(event, data)


class UserRecordMiddleware(BaseMiddleware):
    """Loads (or creates) the sender's user record and passes it on as `user_record`."""

    def __init__(self, users: Users) -> None:
        self._users = users

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and not user.is_bot:
            data["user_record"] = await self._users.touch(
                user.id, telegram_language=user.language_code
            )
        return await handler(event, data)


class AllowlistMiddleware(BaseMiddleware):
    """With ALLOWED_USER_IDS set, every update from anyone else stops here, callbacks included.

    A stranger's /setkey is still deleted (it may carry a secret); in private chats and on
    buttons the stranger is told the bot is private; in groups nothing is said.
    """

    def __init__(self, allowed: Collection[int], *, i18n: I18n) -> None:
        self._allowed = frozenset(allowed)
        self._i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and user.id in self._allowed:
            return await handler(event, data)
        if isinstance(event, Update) and user is not None:
            language = pick_language(None, user, self._i18n.default_locale)
            with self._i18n.context(), self._i18n.use_locale(language):
                await self._refuse(event)
        return None

    async def _refuse(self, update: Update) -> None:
        text = _("This bot is private. Ask its operator for access.")
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
            return
        message = update.message
        if message is None or message.bot is None:
            return
        if may_carry_key(message):
            await delete_quietly(
                message.bot, chat_id=message.chat.id, message_id=message.message_id
            )
        if message.chat.type == ChatType.PRIVATE:
            await message.answer(text)


class RateLimitMiddleware(BaseMiddleware):
    """At most `limit` commands, images or job buttons per user in `window` seconds.

    One polite word beyond it per window. An album counts once, as it is described once.
    Registered for messages and for button presses, sharing one count per user.
    """

    def __init__(
        self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        # Ordered by each user's latest counted hit (moved to the end on every hit), so users
        # whose window has passed sit at the front and are forgotten there: memory stays bounded
        # by the users active within one window, at amortised O(1) per update.
        self._users: OrderedDict[int, _UserHits] = OrderedDict()

    @property
    def users_tracked(self) -> int:
        """How many users' hits are held now."""
        return len(self._users)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or not self._counts(event, album_first=data.get("album_first", True)):
            return await handler(event, data)
        now = self._clock()
        self._forget_before(now - self._window)
        state = self._users.get(user.id)
        if state is None:
            state = self._users[user.id] = _UserHits()
        hits = state.hits
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) < self._limit:
            hits.append(now)
            self._users.move_to_end(user.id)
            return await handler(event, data)
        wait = max(1, int(hits[0] + self._window - now + 0.999))
        text = _("Slow down a little: try again in {seconds} s.").format(seconds=wait)
        if isinstance(event, CallbackQuery):
            await event.answer(text)  # a button is always answered, or it keeps spinning
        elif state.warned_at < hits[0]:  # one warning per full window
            state.warned_at = now
            assert isinstance(event, Message)
            await event.reply(text)
        return None

    def _forget_before(self, horizon: float) -> None:
        """Drop the users whose latest hit is at or before `horizon`: their window has passed."""
        users = self._users
        while users:
            hits = next(iter(users.values())).hits
            if hits and hits[-1] > horizon:
                return
            users.popitem(last=False)

    @staticmethod
    def _counts(event: TelegramObject, *, album_first: bool) -> bool:
        """Commands, images and buttons that start a paid job count; chat and browsing do not;
        an album counts once (AlbumOrderMiddleware says which photo is its first)."""
        if isinstance(event, CallbackQuery):
            return (event.data or "").startswith(_JOB_STARTING_BUTTONS)
        if not isinstance(event, Message):
            return False
        text = event.text or event.caption or ""
        if not (text.startswith("/") or event.photo or event.document is not None):
            return False
        return event.media_group_id is None or album_first


_JOB_STARTING_BUTTONS = (
    *(
        f"{JobAction.__prefix__}:{action.value}:"
        for action in (JobButton.AGAIN, JobButton.RATIO, JobButton.RETRY)
    ),
    f"{InlineStart.__prefix__}:",
)


@dataclass(slots=True)
class _UserHits:
    """One user's counted hits within the window, and when they were last told to slow down."""

    hits: deque[float] = field(default_factory=deque)
    warned_at: float = -1.0
