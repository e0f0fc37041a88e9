"""Rate-limit hits, album claims and FSM state, shared by two instances on one database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiogram.fsm.storage.base import StorageKey
from aiogram.types import User as TgUser

from bot.i18n import create_i18n
from bot.middlewares import RateLimitMiddleware
from bot.shared_state import shared_state
from handlers.gallery.states import GalleryStates
from tests.conftest import Serve
from tests.instances import two_instances
from tests.test_bot_access import _command_message


async def test_the_rate_limit_counts_hits_on_every_instance(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(serve, tmp_path, postgres_url) as (iris, second):
        now = [1000.0]
        limiters = [
            RateLimitMiddleware(
                limit=2,
                window=10,
                clock=lambda: now[0],
                hits=shared_state(app.storage, several_instances=True).rate_hits,
            )
            for app in (iris.app, second)
        ]
        handled: list[float] = []
        replies: list[str] = []

        async def handler(event: object, data: dict[str, object]) -> None:
            handled.append(now[0] - 1000)

        message = _command_message(replies)
        user = TgUser(id=1, is_bot=False, first_name="A")
        with create_i18n("en").context():
            for turn, moment in enumerate((0, 1, 2, 9, 10.5, 11, 11.5, 12)):
                now[0] = 1000 + moment
                await limiters[turn % 2](handler, message, {"event_from_user": user})
        assert handled == [0, 1, 10.5, 11]
        # One warning in each full window that overflowed, whichever instance refused.
        assert replies == [
            "Slow down a little: try again in 8 s.",
            "Slow down a little: try again in 9 s.",
        ]


async def test_an_album_is_claimed_by_one_instance(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(serve, tmp_path, postgres_url) as (iris, second):
        claims = [
            shared_state(app.storage, several_instances=True).albums for app in (iris.app, second)
        ]
        firsts = await asyncio.gather(
            *(claim.first(-100, "album-1") for _ in range(5) for claim in claims)
        )
        assert firsts.count(True) == 1
        assert await claims[1].first(-200, "album-1")  # another chat's album is its own


async def test_fsm_state_set_on_one_instance_is_read_on_the_other(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(serve, tmp_path, postgres_url) as (iris, second):
        first, other = (app.dispatcher.fsm.storage for app in (iris.app, second))
        key = StorageKey(bot_id=42, chat_id=7, user_id=7)
        await first.set_state(key, GalleryStates.rename)
        await first.update_data(key, {"job_id": 5})
        assert await other.get_state(key) == GalleryStates.rename.state
        assert await other.get_data(key) == {"job_id": 5}
        await other.set_state(key, None)
        await other.set_data(key, {})
        assert await first.get_state(key) is None
        assert await first.get_data(key) == {}
        row = await iris.app.storage.db.fetchone("SELECT count(*) FROM fsm_state")
        assert row is not None and row[0] == 0  # a finished conversation leaves no row
