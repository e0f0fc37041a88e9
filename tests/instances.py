"""Two Iris applications on one PostgreSQL database, as two processes behind one bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import Application, create_application
from bot.storage.jobs import JobKind, JobRecord, NewJob
from playground.telegram import User
from tests.conftest import TEST_KEYS_SECRET, Serve
from tests.harness import ALICE, Iris, iris_running


@asynccontextmanager
async def two_instances(
    serve: Serve, tmp_path: Path, database_url: str, **overrides: Any
) -> AsyncIterator[tuple[Iris, Application]]:
    """The polling bot with its fakes, and a second application on the same database that
    takes no updates unless a test feeds it some."""
    async with iris_running(
        serve, tmp_path, database_url=database_url, keys_secret=TEST_KEYS_SECRET, **overrides
    ) as iris:
        second = await create_application(iris.settings, timing=iris.timing, pacing=iris.pacing)
        try:
            yield iris, second
        finally:
            await second.close()


def imagine(prompt: str, user: User = ALICE) -> NewJob:
    """A GPTunnel job on the operator's key, in the user's private chat."""
    return NewJob(
        kind=JobKind.GENERATE, provider="gptunnel", user_id=user.id, chat_id=user.id,
        chat_type="private", prompt=prompt, credential_source="operator", language="en",
    )  # fmt: skip


async def started_chats(iris: Iris, *users: User) -> None:
    """Each user has sent /start and been answered: Telegram knows their chats from now on."""
    for user in users:
        await iris.say(user, "/start")
        await iris.reply(user.id)


async def polling_on(iris: Iris, instance: Application, prompt: str) -> JobRecord:
    """Start `instance`'s runner and a job of Alice's on it, once the provider is polled for it."""
    await instance.runner.start()
    await started_chats(iris, ALICE)
    iris.gptunnel.final_status = "processing"
    job = await instance.runner.enqueue(imagine(prompt))
    assert job is not None
    await iris.api.wait_until(lambda: any(t.polls > 0 for t in iris.gptunnel.tasks.values()))
    return job
