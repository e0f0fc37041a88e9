"""Webhook delivery: updates POSTed to the URL setWebhook gave, with its secret, until taken."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot
from aiohttp import web

from playground.telegram import FakeBotApi
from playground.telegram.webhook import SECRET_HEADER
from tests.conftest import Serve
from tests.emulator.support import ALICE, ALICE_CHAT

SECRET = "hook-secret_123"


class Receiver:
    """A webhook endpoint that records what reached it and answers each POST with `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.received: asyncio.Queue[tuple[str | None, dict[str, Any], int]] = asyncio.Queue()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self._take)
        return app

    async def _take(self, request: web.Request) -> web.Response:
        status = self.status
        await self.received.put((request.headers.get(SECRET_HEADER), await request.json(), status))
        return web.Response(status=status)

    async def next(self) -> tuple[str | None, dict[str, Any], int]:
        return await asyncio.wait_for(self.received.get(), 5)


async def test_updates_are_posted_in_order_with_the_secret(
    api: FakeBotApi, bot: Bot, serve: Serve
) -> None:
    receiver = Receiver()
    url = (await serve(receiver.app())).url + "/hook"
    api.send_text(ALICE, ALICE_CHAT, "before the webhook")
    assert await bot.set_webhook(url, secret_token=SECRET)
    api.send_text(ALICE, ALICE_CHAT, "after it")
    first, second = await receiver.next(), await receiver.next()
    assert [s for s, _, _ in (first, second)] == [SECRET, SECRET]
    assert [u["message"]["text"] for _, u, _ in (first, second)] == [
        "before the webhook",
        "after it",
    ]
    assert first[1]["update_id"] < second[1]["update_id"]
    await api.wait_until(lambda: not api.state.pending)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.last_error_message) == (url, 0, None)


async def test_a_refused_update_is_sent_again_and_reported(
    api: FakeBotApi, bot: Bot, serve: Serve
) -> None:
    receiver = Receiver()
    receiver.status = 500
    url = (await serve(receiver.app())).url + "/hook"
    await bot.set_webhook(url)
    api.send_text(ALICE, ALICE_CHAT, "hello")
    secret, refused, status = await receiver.next()
    assert (secret, status) == (None, 500)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    receiver.status = 200
    while status != 200:
        _, again, status = await receiver.next()
    assert again == refused
    await api.wait_until(lambda: not api.state.pending)


async def test_deleting_the_webhook_keeps_updates_for_get_updates(
    api: FakeBotApi, bot: Bot, serve: Serve
) -> None:
    receiver = Receiver()
    await bot.set_webhook((await serve(receiver.app())).url + "/hook", secret_token=SECRET)
    assert await bot.delete_webhook()
    api.send_text(ALICE, ALICE_CHAT, "polled, not pushed")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["polled, not pushed"]
    assert receiver.received.empty()
    assert (await bot.get_webhook_info()).url == ""
