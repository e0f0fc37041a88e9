"""Progress edits thin out with the load: an edit planned while few jobs ran waits for the
interval the load asks for when it comes due."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiogram import Bot

from bot.i18n import create_i18n
from bot.imaging import ImageWorkers
from bot.jobs.files import JobFiles
from bot.jobs.notifier import Notifier
from bot.jobs.timing import Timing
from bot.outbox import Outbox, Pacing
from bot.storage.jobs import JobKind, JobRecord, JobState

RATE = 1000.0
"""Progress shares a tenth of it: 100 edits a second, so one running job may edit every 0.01 s
and a thousand every 10 s."""
EVERY = 0.05


class QuietBot:
    """Takes chat actions; a progress edit goes through the notifier's update_status."""

    def __init__(self) -> None:
        self.acted = asyncio.Event()

    async def send_chat_action(self, **_: Any) -> bool:
        self.acted.set()
        return True


def a_job() -> JobRecord:
    return JobRecord(
        id=1,
        kind=JobKind.GENERATE,
        provider="gptunnel",
        user_id=7,
        chat_id=7,
        chat_type="private",
        request_message_id=10,
        status_message_id=11,
        prompt="a lighthouse",
        options={},
        input_file_id=None,
        credential_source="operator",
        language="en",
        task_id=None,
        state=JobState.POLLING,
        attempts=0,
        error=None,
        result_text=None,
        result_path=None,
        result_mime=None,
        result_message_id=None,
        document_file_id=None,
        created_at=0.0,
        updated_at=0.0,
        started_at=0.0,
        finished_at=None,
    )


@pytest.mark.parametrize(("running_later", "edited"), [(1, True), (1000, False)])
async def test_an_edit_planned_under_light_load_waits_once_more_jobs_run(
    monkeypatch: pytest.MonkeyPatch, running_later: int, edited: bool
) -> None:
    running = 1
    outbox = Outbox(Pacing(rate=RATE))
    bot = QuietBot()
    notifier = Notifier(
        bot=cast(Bot, bot),
        outbox=outbox,
        files=cast(JobFiles, None),
        images=cast(ImageWorkers, None),
        timing=Timing(progress_every=EVERY, action_every=60),
        running=lambda: running,
    )
    edit = asyncio.Event()

    async def record_edit(job: JobRecord, text: str, *, final: bool = False) -> bool:
        edit.set()
        return True

    monkeypatch.setattr(notifier, "update_status", record_edit)
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        async with notifier.progress(a_job()):
            # Progress has begun (its first chat action) and planned the first edit while one
            # job ran; the rest of a burst starts right after.
            await asyncio.wait_for(bot.acted.wait(), 5)
            running = running_later
            try:
                async with asyncio.timeout(20 * EVERY):
                    await edit.wait()
            except TimeoutError:
                pass
    await outbox.close()
    assert edit.is_set() is edited
