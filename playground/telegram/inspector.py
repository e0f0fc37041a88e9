"""Reading what the bot did through the emulator, and waiting for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from playground.telegram.model import CallbackAnswer, Message
from playground.telegram.state import State
from playground.telegram.wire import ApiCall


class Inspector:
    """The calls, messages, files, menus and answers the bot made; waits on them."""

    state: State
    _cursor: int = 0

    @property
    def calls(self) -> list[ApiCall]:
        """Every call received, in order, with the error it answered if any."""
        return self.state.journal.calls

    @property
    def errors(self) -> list[str]:
        """Exceptions inside the emulator's handlers (answered 500): protocol surprises."""
        return self.state.journal.errors

    @property
    def downloads(self) -> list[str]:
        """File paths downloaded from /file/bot<token>/."""
        return self.state.journal.downloads

    @property
    def polled(self) -> asyncio.Event:
        """Set when a getUpdates call starts waiting."""
        return self.state.polled

    @property
    def webhook(self) -> str | None:
        """The URL setWebhook registered, if any."""
        return self.state.webhook

    # --- what the bot did --------------------------------------------------------------------

    def called(self, method: str) -> bool:
        """Whether the method was called at all."""
        return any(call.method == method for call in self.calls)

    def calls_of(self, method: str) -> list[ApiCall]:
        """The calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def message(self, chat_id: int, message_id: int) -> Message:
        """The current record of a message (KeyError if it never existed)."""
        return self.state.messages[(chat_id, message_id)]

    def bot_messages(self, chat_id: int) -> list[Message]:
        """The bot's messages in a chat that are not deleted, oldest first."""
        return [
            m
            for m in self.state.messages.values()
            if m.chat_id == chat_id and m.from_bot and not m.deleted
        ]

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a stored file."""
        return self.state.files.by_id[file_id].data

    def chat_actions(self, chat_id: int) -> list[str]:
        """The chat actions the bot sent to a chat, in order."""
        return list(self.state.actions.get(chat_id, ()))

    def commands(
        self,
        scope_type: str = "default",
        language_code: str = "",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, str]]:
        """The command menu set for a scope and language (empty if none)."""
        return list(self.state.commands.get((scope_type, chat_id, user_id, language_code), []))

    def answers(self, query_id: str) -> CallbackAnswer | None:
        """What answerCallbackQuery said to a pressed button, if it was answered."""
        return self.state.answers.get(query_id)

    # --- waiting -----------------------------------------------------------------------------

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

        if not await self.state.journal.wait(lambda: found() is not None, timeout):
            seen = [call.method for call in self.calls[start:] if call.method != "getUpdates"]
            raise TimeoutError(f"no matching {method} after call #{start} in {timeout} s: {seen}")
        call = found()
        assert call is not None
        return call

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 10) -> None:
        """Wait until the predicate holds; re-checked on every call, update and download."""
        if not await self.state.journal.wait(predicate, timeout):
            raise TimeoutError(f"condition still false after {timeout} s")
