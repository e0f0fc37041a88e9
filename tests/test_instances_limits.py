"""Limits counted in the database hold when two instances share it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.storage.jobs import JobKind, NewJob
from tests.conftest import Serve
from tests.harness import ALICE, GPTUNNEL_KEY, Iris
from tests.instances import two_instances


def _imagine(prompt: str) -> NewJob:
    return NewJob(
        kind=JobKind.GENERATE, provider="gptunnel", user_id=ALICE.id, chat_id=ALICE.id,
        chat_type="private", prompt=prompt, credential_source="operator", language="en",
    )  # fmt: skip


def _refusals(iris: Iris) -> list[str]:
    texts = (m.text or "" for m in iris.api.bot_messages(ALICE.id))
    return [text for text in texts if "today's 3 jobs" in text]


async def test_the_operator_daily_limit_holds_across_instances(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(
        serve, tmp_path, postgres_url, operator_daily_limit=3, gptunnel_api_key=GPTUNNEL_KEY
    ) as (iris, second):
        await iris.say(ALICE, "/start")
        await iris.api.wait_for("sendMessage")
        runners = (iris.app.runner, second.runner)
        jobs = await asyncio.gather(
            *(runner.enqueue(_imagine(f"a cat {i}")) for i in range(4) for runner in runners)
        )
        assert len([job for job in jobs if job is not None]) == 3
        assert await iris.app.storage.jobs.operator_jobs(ALICE.id, since=0) == 3
        await iris.api.wait_until(lambda: len(_refusals(iris)) == 5)
        await iris.api.wait_until(lambda: all(runner.idle for runner in runners))
        assert len(iris.gptunnel.tasks) == 3


async def test_the_describepicture_quota_holds_across_instances(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(serve, tmp_path, postgres_url) as (iris, second):
        stores = (iris.app.storage.quota, second.storage.quota)
        outcomes = await asyncio.gather(
            *(
                store.try_acquire("app", now=1000.0 + i, window=3600, limit=5)
                for i in range(10)
                for store in stores
            )
        )
        assert outcomes.count(None) == 5
        assert await stores[1].used("app", now=1100.0, window=3600) == 5
