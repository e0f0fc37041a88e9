"""SIGKILL of the real process at every job state, then a restart: delivered or interrupted."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.storage import open_storage
from bot.storage.jobs import TERMINAL, JobKind, JobState, NewJob
from playground.providers.describepicture import PATH as DESCRIBEPICTURE_PATH
from playground.providers.describepicture import FakeDescribePicture
from playground.providers.gptunnel import API_KEY, GPTunnelFake
from playground.providers.server import LoopbackServer
from playground.telegram import ApiCall, Chat, FakeBotApi, Message, User
from services.describepicture import PUBLISHED_KEY_HEX
from tests.checks import photo_bytes, text_has
from tests.conftest import Serve
from tests.harness import (
    ALICE,
    DESCRIBE_APP_ID,
    GPTUNNEL_KEY,
    ROOT,
    TOKEN,
    bot_process,
    iris_running,
)

FINAL = frozenset(state.value for state in TERMINAL)
WAIT = 30.0
"""Seconds a real process may take to start and act (imports alone take a few)."""


@dataclass
class World:
    """The fakes one bot process talks to, and its environment."""

    api: FakeBotApi
    gptunnel: GPTunnelFake
    gptunnel_server: LoopbackServer
    describepicture: FakeDescribePicture
    env: dict[str, str]
    data_dir: Path

    def creates(self) -> int:
        """GPTunnel create requests: each one may cost money."""
        return len(self.gptunnel_server.calls("POST", "/v1/media/create"))

    def jobs(self) -> list[tuple[int, str, str | None]]:
        """(id, state, task id) of every job, read from the database as the process left it."""
        with closing(sqlite3.connect(self.data_dir / "iris.db")) as db:
            rows = db.execute("SELECT id, state, task_id FROM jobs ORDER BY id").fetchall()
        return [(int(i), str(state), task) for i, state, task in rows]

    def photos(self, user: User) -> list[Message]:
        """The photos a user has from the bot in private."""
        return [m for m in self.api.bot_messages(user.id) if m.photo]


async def make_world(serve: Serve, tmp_path: Path, **env: str) -> World:
    """Start the fakes; the processes' environment points at them."""
    api = FakeBotApi(TOKEN)
    gptunnel = GPTunnelFake(progress=())
    describepicture = FakeDescribePicture(
        key=bytes.fromhex(PUBLISHED_KEY_HEX), credits={DESCRIBE_APP_ID: 100}
    )
    telegram = await serve(api.app())
    gptunnel_server = await serve(gptunnel.app())
    describe_server = await serve(describepicture.app())
    data_dir = tmp_path / "data"
    return World(
        api=api,
        gptunnel=gptunnel,
        gptunnel_server=gptunnel_server,
        describepicture=describepicture,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": telegram.url,
            "GPTUNNEL_URL": gptunnel_server.url,
            "GPTUNNEL_API_KEY": API_KEY,
            "DESCRIBEPICTURE_URL": describe_server.url + DESCRIBEPICTURE_PATH,
            "DESCRIBEPICTURE_KEY": PUBLISHED_KEY_HEX,
            "DESCRIBEPICTURE_APP_ID": DESCRIBE_APP_ID,
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "DEBUG",
            **env,
        },
        data_dir=data_dir,
    )


async def crash(world: World, tmp_path: Path, arrange: Callable[[], Awaitable[None]]) -> None:
    """Start the bot, let `arrange` bring a job to its state, then SIGKILL the process."""
    async with bot_process(world.env, tmp_path) as process:
        await arrange()
        process.send_signal(signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL


async def restarted(world: World, tmp_path: Path, until: Callable[[], Awaitable[None]]) -> None:
    """Start the bot again on the same DATA_DIR until `until` returns and every job is final."""
    async with bot_process(world.env, tmp_path):
        await until()
        # Re-read on every Bot API call; the last one of a job (deleting its status) comes after.
        await world.api.wait_until(
            lambda: all(state in FINAL for _, state, _ in world.jobs()), timeout=WAIT
        )
    log = (tmp_path / "bot.log").read_text()
    assert "Traceback" not in log
    assert TOKEN not in log
    assert API_KEY not in log


async def held(event: asyncio.Event) -> None:
    """Wait until a fake has a request it will not answer (yet)."""
    await asyncio.wait_for(event.wait(), WAIT)


async def polled(world: World) -> None:
    """Wait for the next result poll GPTunnel answers."""
    world.gptunnel.polled.clear()
    await asyncio.wait_for(world.gptunnel.polled.wait(), WAIT)


PAT = User(id=2001, first_name="Pat")
"""Her first job is polling when the process dies, her second waits behind it (queued)."""
SAM = User(id=2002, first_name="Sam")
"""His paid create is in flight (submitting)."""
DANA = User(id=2003, first_name="Dana")
"""Her result is being downloaded from the provider's storage (still polling, task id known)."""
DEL = User(id=2004, first_name="Del")
"""His result is kept on disk and its upload is under way (delivering)."""
DESI = User(id=2005, first_name="Desi")
"""Her photo is out at DescribePicture (a paid describe in flight: submitting)."""
ANN = User(id=2006, first_name="Ann")
"""Her answer is stored and being sent (delivering)."""


async def test_sigkill_at_every_job_state_then_restart(serve: Serve, tmp_path: Path) -> None:
    # One kill catches a job in each state, so two process starts cover them all.
    world = await make_world(serve, tmp_path, USER_MAX_JOBS="1")
    api, gptunnel = world.api, world.gptunnel

    def imagine(user: User, prompt: str) -> None:
        api.send_text(user, Chat.private(user), f"/imagine {prompt}")

    async def arrange() -> None:
        api.hold_next("sendPhoto")
        imagine(DEL, "job-delivering")
        await api.wait_for("sendPhoto", timeout=WAIT)  # uploaded, never answered
        api.hold_next("sendMessage", where=text_has("You asked"))
        api.send_photo(ANN, Chat.private(ANN), photo_bytes(seed=2))
        await api.wait_for("sendMessage", where=text_has("You asked"), timeout=WAIT)
        gptunnel.image_gate = asyncio.Event()
        imagine(DANA, "job-downloading")
        await held(gptunnel.held)
        gptunnel.final_status = "processing"
        imagine(PAT, "job-polling")
        await polled(world)
        imagine(PAT, "job-queued")
        await api.wait_for("sendMessage", where=text_has("Waiting"), timeout=WAIT)
        gptunnel.create_gate = asyncio.Event()
        gptunnel.held.clear()
        imagine(SAM, "job-submitting")
        await held(gptunnel.held)
        world.describepicture.hang()
        world.describepicture.received.clear()
        api.send_photo(DESI, Chat.private(DESI), photo_bytes(seed=3))
        await held(world.describepicture.received)

    await crash(world, tmp_path, arrange)
    at_kill = {job_id: (state, task is not None) for job_id, state, task in world.jobs()}
    assert at_kill == {
        1: ("delivering", True),
        2: ("delivering", False),  # a describe job has no task id
        3: ("polling", True),  # downloading
        4: ("polling", True),
        5: ("queued", False),
        6: ("submitting", False),
        7: ("submitting", False),
    }
    assert (world.data_dir / "results" / "1.webp").is_file()
    created_before = world.creates()
    assert created_before == 4
    gptunnel.final_status = "done"
    for gate in (gptunnel.image_gate, gptunnel.create_gate):
        assert gate is not None
        gate.set()  # the requests held for the dead process end; new ones pass
    mark = api.mark()

    async def until() -> None:
        notices = [
            await api.wait_for("editMessageText", where=interrupted(user), after=mark, timeout=WAIT)
            for user in (SAM, DESI)
        ]
        status = api.message(SAM.id, int(notices[0].params["message_id"]))
        [retry] = status.buttons
        assert retry.text == "🔁 Retry"
        assert retry.callback_data is not None
        api.press(SAM, status, retry.callback_data)  # a new job (8), the user's own choice
        await api.wait_until(lambda: len(world.jobs()) == 8, timeout=WAIT)

    await restarted(world, tmp_path, until)
    assert {job_id: state for job_id, state, _ in world.jobs()} == {
        1: "done", 2: "done", 3: "done", 4: "done", 5: "done",
        6: "cancelled",  # closed by its Retry
        7: "interrupted",
        8: "done",
    }  # fmt: skip
    # No create was sent again for a job with a task id; only Retry made one more.
    assert Counter(t.prompt for t in gptunnel.tasks.values()) == {
        "job-delivering": 1, "job-downloading": 1, "job-polling": 1, "job-queued": 1,
        "job-submitting": 2,
    }  # fmt: skip
    assert world.creates() == 6
    assert len(world.describepicture.payloads) == 2  # Ann's answer was stored, not asked again
    delivered = {
        user.first_name: sorted(str(m.caption).split("\n")[0] for m in world.photos(user))
        for user in (PAT, SAM, DANA, DEL)
    }
    assert delivered == {
        "Pat": ["job-polling", "job-queued"],
        "Sam": ["job-submitting"],
        "Dana": ["job-downloading"],
        "Del": ["job-delivering"],
    }
    answers = [m for m in api.bot_messages(ANN.id) if m.text and "You asked" in m.text]
    assert len(answers) == 1
    assert world.photos(DESI) == []


def interrupted(user: User) -> Callable[[ApiCall], bool]:
    """The edit that tells `user` a job was interrupted."""
    return lambda call: (
        int(call.params["chat_id"]) == user.id and "interrupted" in str(call.params.get("text", ""))
    )


# --- restarts in-process: what a crash can leave behind ----------------------------------------


def _new_job(prompt: str) -> NewJob:
    return NewJob(
        kind=JobKind.GENERATE, provider="gptunnel", user_id=ALICE.id, chat_id=ALICE.id,
        chat_type="private", prompt=prompt, options={"ar": "1:1"},
        credential_source="operator", language="en",
    )  # fmt: skip


async def test_a_restart_whose_notice_cannot_be_sent_still_starts(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        await iris.say(ALICE, "/start")
        await iris.api.wait_for("sendMessage")
        await iris.stop()
        storage = await open_storage(data_dir=iris.settings.data_dir, keys_secret=None)
        job = await storage.jobs.create(_new_job("a comet"), now=time.time())
        await storage.jobs.set_status_message(job.id, 999)
        assert await storage.jobs.transition(job.id, to=JobState.SUBMITTING, now=time.time())
        await storage.close()
        # The status message and the chat are gone (an admin wiped them, say).
        iris.api.fail_next(
            "editMessageText", error_code=400, description="Bad Request: message to edit not found"
        )
        iris.api.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found")
        await iris.start()
        assert (await iris.job(job.id)).state == "interrupted"
        mark = iris.api.mark()
        await iris.say(ALICE, "/start")  # and the bot serves everyone else as usual
        await iris.reply(ALICE.id, after=mark)


async def test_a_delivering_job_whose_file_is_gone_is_fetched_again(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.progress = ()
        iris.gptunnel.final_status = "processing"
        await iris.say(ALICE, "/imagine a canyon")
        await iris.api.wait_until(lambda: any(t.polls > 0 for t in iris.gptunnel.tasks.values()))
        await iris.stop()
        # A crash after "delivering" was written, with the kept file lost (a disk wiped, say).
        storage = await open_storage(data_dir=iris.settings.data_dir, keys_secret=None)
        assert await storage.jobs.transition(
            1, to=JobState.DELIVERING, now=time.time(), result_path="1.webp",
            result_mime="image/webp",
        )  # fmt: skip
        await storage.close()
        iris.gptunnel.final_status = "done"
        mark = iris.api.mark()
        await iris.start()
        await iris.api.wait_for("sendPhoto", after=mark)
        await iris.settled()
        assert (await iris.job(1)).state == "done"
        assert iris.requests("gptunnel", "POST", "/v1/media/create") == 1
