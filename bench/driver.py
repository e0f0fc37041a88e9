"""Simulated users: each plays one flow against the bot through the fake Bot API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bench.fakes import Arrival, BenchBotApi
from bench.spans import now
from playground.telegram import Chat, Message, User

JOB_SIDE = frozenset({"sendChatAction", "editMessageText", "answerCallbackQuery"})
"""Calls a job makes beside its critical path (progress), so not time the user waits on."""
UI_SIDE = frozenset({"sendChatAction", "answerCallbackQuery"})
"""The same for gallery clicks, whose answer may itself be an edit."""


@dataclass(frozen=True, slots=True)
class Step:
    """One request of one user and the bot's answers to it, as the fake Bot API saw them."""

    user: int
    kind: str
    sent: float
    first: float | None
    """The bot's first answer (a job's status message), None if it never came."""
    done: float | None
    """The result, None if it never came."""
    side: frozenset[str]


def bench_user(user_id: int) -> User:
    """A user who writes in English."""
    return User(id=user_id, first_name=f"User {user_id}", language_code="en")


class Driver:
    """Plays users; every flow gives up after `timeout` seconds and says what never came."""

    def __init__(self, api: BenchBotApi, *, photo: bytes, timeout: float) -> None:
        self._api = api
        self._photo = photo
        self._timeout = timeout

    async def imagine(self, user: User) -> list[Step]:
        """/imagine on GPTunnel (the operator's key): status message, then the photo."""
        chat = user.id
        status = self._api.expect(chat, "sendMessage", "Generating")
        photo = self._api.expect(chat, "sendPhoto")
        status_gone = self._api.expect(chat, "deleteMessage")
        sent = now()
        text = f"/imagine u{user.id} a lighthouse at dawn, watercolor --ar 16:9"
        self._api.send_text(user, Chat.private(user), text)
        first, done, _ = await self._arrivals(chat, status, photo, status_gone)
        return [Step(user.id, "imagine", sent, _at(first), _at(done), JOB_SIDE)]

    async def describe(self, user: User) -> list[Step]:
        """A photo to DescribePicture (the user's own App ID): status message, then the answer."""
        chat = user.id
        status = self._api.expect(chat, "sendMessage", "Looking at the photo")
        answer = self._api.expect(chat, "sendMessage", "You asked")
        status_gone = self._api.expect(chat, "deleteMessage")
        sent = now()
        self._api.send_photo(user, Chat.private(user), self._photo)
        first, done, _ = await self._arrivals(chat, status, answer, status_gone)
        return [Step(user.id, "describe", sent, _at(first), _at(done), JOB_SIDE)]

    async def gallery(self, user: User) -> list[Step]:
        """/gallery (own AiLuna key), then Next ▶️, then the first image's card."""
        chat = user.id
        listed = self._api.expect(chat, "sendMessage", "Your AiLuna images")
        sent = now()
        self._api.send_text(user, Chat.private(user), "/gallery")
        (shown,) = await self._arrivals(chat, listed)
        steps = [Step(user.id, "gallery-list", sent, _at(shown), _at(shown), UI_SIDE)]
        if shown is None:
            return steps
        message = self._api.message(chat, int(shown.result["message_id"]))
        turned = self._api.expect(chat, "editMessageText", "Page 2")
        sent = now()
        self._press(user, message, _button(message, "Next"))
        (paged,) = await self._arrivals(chat, turned)
        steps.append(Step(user.id, "gallery-next", sent, _at(paged), _at(paged), UI_SIDE))
        if paged is None:
            return steps
        message = self._api.message(chat, message.message_id)
        card = self._api.expect(chat, "sendPhoto")
        sent = now()
        self._press(user, message, message.buttons[0].callback_data or "")
        (opened,) = await self._arrivals(chat, card)
        steps.append(Step(user.id, "gallery-open", sent, _at(opened), _at(opened), UI_SIDE))
        return steps

    async def chat(self, user: User, *, text: str, times: int, marker: str | None) -> list[Step]:
        """`times` messages at once, each answered by one sendMessage (with `marker`)."""
        chat = user.id
        answers = [self._api.expect(chat, "sendMessage", marker) for _ in range(times)]
        sent = []
        for _ in range(times):
            sent.append(now())
            self._api.send_text(user, Chat.private(user), text)
        arrivals = await self._arrivals(chat, *answers)
        return [
            Step(user.id, "message", at, _at(arrival), _at(arrival), UI_SIDE)
            for at, arrival in zip(sent, arrivals, strict=True)
        ]

    def _press(self, user: User, message: Message, callback_data: str) -> None:
        query_id = self._api.press(user, message, callback_data)
        self._api.owners[query_id] = user.id

    async def _arrivals(
        self, chat: int, *expected: asyncio.Future[Arrival]
    ) -> list[Arrival | None]:
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.gather(*expected)
        except TimeoutError:
            self._api.forget(chat)
        return [f.result() if f.done() and not f.cancelled() else None for f in expected]


def _at(arrival: Arrival | None) -> float | None:
    return None if arrival is None else arrival.at


def _button(message: Message, label: str) -> str:
    """The callback data of the message's button whose text starts with `label`."""
    for button in message.buttons:
        if button.text.startswith(label) and button.callback_data is not None:
            return button.callback_data
    raise LookupError(f"no {label!r} button on message {message.message_id}")
