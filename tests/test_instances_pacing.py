"""Two instances send for one bot within Telegram's limits: each paces at its share."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.instances import InstanceRegistry, share_of
from bot.outbox import Pacing, Priority
from bot.outbox.budget import Budget
from playground.telegram import Chat, User
from playground.telegram.limits import Limits
from tests.conftest import Serve
from tests.instances import two_instances

USERS = [User(id=7000 + i, first_name=f"User{i}") for i in range(45)]


async def test_two_instances_sending_at_once_stay_within_telegrams_limits(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(serve, tmp_path, postgres_url, pacing=Pacing()) as (iris, second):
        api, outboxes = iris.api, (iris.app.outbox, second.outbox)
        await api.wait_until(lambda: [outbox.share for outbox in outboxes] == [share_of(2)] * 2)
        for user in USERS:
            api.state.enter(user, Chat.private(user))
        api.limits = Limits()  # Telegram's own: 30 a second for the bot, ~1 a second a chat
        await asyncio.gather(
            *(
                app.bot.send_message(user.id, f"news {n}")
                for n in range(2)
                for app in (iris.app, second)
                for user in USERS
            )
        )
        assert api.limits.performed.total() == 4 * len(USERS)
        assert api.limits.refusals() == 0


async def test_an_instance_joining_or_leaving_changes_the_others_share_at_once(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(serve, tmp_path, postgres_url) as (iris, second):
        outbox = iris.app.outbox
        await iris.api.wait_until(lambda: outbox.share == share_of(2))
        # Heartbeats an hour apart: only the join and the leave themselves can tell the others.
        third = InstanceRegistry(second.storage.db, lambda share: None, every=3600)
        await third.start()
        assert third.live == 3
        await iris.api.wait_until(lambda: outbox.share == share_of(3))
        await third.stop()
        await iris.api.wait_until(lambda: outbox.share == share_of(2))


async def test_a_smaller_share_keeps_what_the_buckets_already_took() -> None:
    budget = Budget(Pacing(rate=30))
    for _ in range(20):
        assert budget.fits(None, 1, Priority.ANSWER)
        await budget.spend(None, 1)
    budget.set_share(0.5)  # 20 spent, the bucket now holds 15: nothing fits until it drains
    assert not budget.fits(None, 1, Priority.ANSWER)
    budget.set_share(1.0)
    assert budget.fits(None, 1, Priority.ANSWER)
