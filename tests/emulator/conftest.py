"""Fixtures of the emulator's tests: the emulator, its server and a real aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer

from playground.providers.server import LoopbackServer
from playground.telegram import FakeBotApi
from tests.conftest import Serve
from tests.emulator.support import LoopbackSession
from tests.harness import TOKEN


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi(TOKEN)
    yield fake
    assert fake.errors == []


@pytest.fixture
async def server(api: FakeBotApi, serve: Serve) -> LoopbackServer:
    return await serve(api.app())


@pytest.fixture
async def bot(server: LoopbackServer) -> AsyncIterator[Bot]:
    session = LoopbackSession(api=TelegramAPIServer.from_base(server.url))
    yield Bot(TOKEN, session=session)
    await session.close()
