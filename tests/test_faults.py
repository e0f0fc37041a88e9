"""Provider and Telegram faults through the real bot in-process: what users see, what was paid."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.jobs.timing import Timing
from bot.storage.jobs import TERMINAL, JobRecord
from playground.providers.ailuna import KEY_ALICE
from playground.providers.ailuna import cut as ailuna_cut
from playground.providers.ailuna import rate_limited as ailuna_rate_limited
from playground.providers.ailuna import server_error as ailuna_server_error
from playground.providers.codexaeternum import MALFORMED, Canned
from playground.providers.gptunnel import (
    Outcome,
    cut,
    hang,
    html_page,
    huge,
    malformed,
    refuse,
    truncated,
)
from playground.telegram import Chat, Message
from tests.checks import photo_bytes
from tests.conftest import Serve
from tests.harness import (
    ALICE,
    CODEX_EMAIL,
    CODEX_SECRET,
    DESCRIBE_APP_ID,
    GPTUNNEL_KEY,
    Iris,
    creates,
    iris_running,
)

UNAVAILABLE = "GPTunnel is unavailable right now. Try again later."
BUSY = "GPTunnel is busy right now. Try again in a minute."
UNKNOWN = (
    "GPTunnel did not confirm the job, and may still have taken (and charged for) it. "
    "Check your GPTunnel account before trying again."
)
TOO_LONG = "GPTunnel took too long, so I gave up. Try again later."
GONE = "GPTunnel no longer has this result."
TOO_LARGE = "The image is too large to handle. Try a smaller one."
REJECTED = "GPTunnel rejected your key. Set a new one with /setkey."
NO_CREDITS = "GPTunnel: your account is out of credits. Top it up and try again."
UNREADABLE = "{provider} sent an answer I could not read. Try again later."
PENDING = {"code": 0, "id": "0" * 24, "status": "processing"}
"""A poll answer's start, for a body cut off halfway (its content is never read)."""


def polls(iris: Iris) -> int:
    """GPTunnel result polls received."""
    return iris.requests("gptunnel", "POST", "/v1/media/result")


def downloads(iris: Iris) -> int:
    """Requests for the result image on GPTunnel's storage host."""
    return sum(r.path.startswith("/exp48h/") for r in iris.servers["gptunnel"].requests)


async def ended(iris: Iris, job_id: int = 1, *, timeout: float = 20) -> JobRecord:
    """The job once it is final and its task has ended (re-checked on every Bot API call)."""
    async with asyncio.timeout(timeout):
        while True:
            seen = len(iris.api.calls)
            job = await iris.app.storage.jobs.get(job_id)
            if job is not None and job.state in TERMINAL and iris.app.runner.running == 0:
                return job
            # The bot long-polls every second at most, so a call always comes.
            await iris.api.wait_until(partial(_more_calls, iris, seen), timeout=timeout)


def _more_calls(iris: Iris, seen: int) -> bool:
    return len(iris.api.calls) > seen


def status_text(iris: Iris, job: JobRecord) -> str | None:
    """What the job's status message says now (None once deleted)."""
    assert job.status_message_id is not None
    status = iris.api.message(job.chat_id, job.status_message_id)
    return None if status.deleted else status.text


def photos(iris: Iris, chat_id: int) -> list[Message]:
    """The photos the bot has in a chat."""
    return [m for m in iris.api.bot_messages(chat_id) if m.photo]


def delete_status_message(iris: Iris) -> None:
    """The user deletes the job's status message: editing or deleting it fails from now on."""
    iris.api.fail_next(
        "editMessageText", error_code=400,
        description="Bad Request: message to edit not found", times=1000,
    )  # fmt: skip
    iris.api.fail_next(
        "deleteMessage", error_code=400,
        description="Bad Request: message to delete not found", times=1000,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class GenerationFault:
    """Outcomes queued on GPTunnel's routes and what the user and the provider must end with."""

    create: tuple[Outcome, ...] = ()
    result: tuple[Outcome, ...] = ()
    image: tuple[Outcome, ...] = ()
    text: str | None = None
    """The status message's final text; None: the photo is delivered."""
    state: str = "done"
    error: str | None = None
    creates: int = 1
    downloads: int | None = None
    """Requests for the result link, when the fault is there."""
    job_timeout: float = 20


GATEWAY = Outcome(status=502, body=b"<html>502 Bad Gateway</html>", content_type="text/html")
SERVICE_DOWN = Outcome(status=503, body=b"<html>503</html>", content_type="text/html")
SERVER_ERROR = refuse(500, "internal error")
TOO_MANY = refuse(429, "too many requests")
NO_SUCH_KEY = Outcome(status=404, body=b"NoSuchKey", content_type="text/plain")
FIFTY_MB = 50 * 1024 * 1024


def delivered(
    name: str,
    *,
    creates: int = 1,
    downloads: int | None = None,
    create: tuple[Outcome, ...] = (),
    result: tuple[Outcome, ...] = (),
    image: tuple[Outcome, ...] = (),
) -> Any:
    """A fault the job lives through: the photo arrives."""
    fault = GenerationFault(
        create=create, result=result, image=image, creates=creates, downloads=downloads
    )
    return pytest.param(fault, id=name)


def failed(
    name: str,
    text: str,
    error: str,
    *,
    state: str = "failed",
    creates: int = 1,
    downloads: int | None = None,
    job_timeout: float = 20,
    create: tuple[Outcome, ...] = (),
    result: tuple[Outcome, ...] = (),
    image: tuple[Outcome, ...] = (),
) -> Any:
    """A fault that ends the job: the status message says `text`."""
    fault = GenerationFault(
        create=create, result=result, image=image, text=text, state=state, error=error,
        creates=creates, downloads=downloads, job_timeout=job_timeout,
    )  # fmt: skip
    return pytest.param(fault, id=name)


GENERATION_FAULTS = [
    # The paid create: re-sent only when the provider never took it.
    delivered("create-502-resent", create=(GATEWAY,), creates=2),
    delivered("create-503-resent", create=(SERVICE_DOWN,), creates=2),
    failed("create-500-not-resent", UNAVAILABLE, "unavailable", create=(SERVER_ERROR,)),
    delivered("create-429-retried", create=(TOO_MANY,), creates=2),
    failed("create-429-persisting", BUSY, "rate_limited", create=(TOO_MANY,) * 3, creates=3),
    failed(
        "create-429-retry-after-an-hour",
        BUSY,
        "rate_limited",
        create=(refuse(429, "slow down", headers={"Retry-After": "3600"}),),
    ),
    failed("create-connection-reset", UNKNOWN, "outcome_unknown", create=(cut(),)),
    failed("create-truncated-body", UNKNOWN, "outcome_unknown", create=(truncated(PENDING),)),
    failed("create-malformed-json", UNKNOWN, "outcome_unknown", create=(malformed(),)),
    failed("create-html-page-200", UNKNOWN, "outcome_unknown", create=(html_page(),)),
    failed(
        "create-hangs-past-the-deadline",
        UNKNOWN,
        "outcome_unknown",
        state="timed_out",
        job_timeout=1,
        create=(hang(),),
    ),
    failed("create-401", REJECTED, "auth", create=(refuse(401, "invalid api key"),)),
    failed(
        "create-out-of-credits",
        NO_CREDITS,
        "credits",
        create=(refuse(402, "Недостаточно средств на балансе"),),
    ),
    # Polls: a paid job is not given up for a passing fault.
    delivered("poll-5xx-retried", result=(SERVER_ERROR, GATEWAY, SERVICE_DOWN, SERVER_ERROR)),
    delivered(
        "poll-429-retried", result=(TOO_MANY, refuse(429, "wait", headers={"Retry-After": "1"}))
    ),
    delivered("poll-connection-reset", result=(cut(),) * 4),
    delivered("poll-truncated-body", result=(truncated(PENDING),)),
    delivered("poll-malformed-json", result=(malformed(), malformed())),
    delivered("poll-html-page-200", result=(html_page(),)),
    failed(
        "poll-unreadable-3-times",
        UNREADABLE.format(provider="GPTunnel"),
        "bad_answer",
        result=(malformed(),) * 3,
    ),
    failed(
        "poll-hangs-past-the-deadline",
        TOO_LONG,
        "timeout",
        state="timed_out",
        job_timeout=1,
        result=(hang(),),
    ),
    # The result link on the storage host.
    delivered("result-url-5xx-retried", image=(GATEWAY, SERVER_ERROR), downloads=3),
    failed("result-url-404", GONE, "not_found", image=(NO_SUCH_KEY,), downloads=1),
    failed("result-50mb-declared", TOO_LARGE, "too_large", image=(huge(FIFTY_MB),), downloads=1),
    failed(
        "result-50mb-streamed",
        TOO_LARGE,
        "too_large",
        image=(huge(FIFTY_MB, declare_length=False),),
        downloads=1,
    ),
]


@pytest.mark.parametrize("fault", GENERATION_FAULTS)
async def test_gptunnel_fault_during_generation(
    serve: Serve, tmp_path: Path, fault: GenerationFault
) -> None:
    async with iris_running(
        serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, job_timeout=fault.job_timeout
    ) as iris:
        iris.gptunnel.create_outcomes.extend(fault.create)
        iris.gptunnel.result_outcomes.extend(fault.result)
        iris.gptunnel.image_outcomes.extend(fault.image)
        await iris.say(ALICE, "/imagine a lighthouse in a storm")
        job = await ended(iris)
        assert (job.state, job.error) == (fault.state, fault.error)
        assert creates(iris) == fault.creates
        if fault.downloads is not None:
            assert downloads(iris) == fault.downloads
        assert len(iris.gptunnel.tasks) <= 1  # the provider accepted one task at most
        if fault.text is None:
            assert len(photos(iris, ALICE.id)) == 1
            assert status_text(iris, job) is None  # deleted once the result arrived
        else:
            assert status_text(iris, job) == fault.text
            assert photos(iris, ALICE.id) == []
            status = iris.api.message(job.chat_id, job.status_message_id or 0)
            assert status.buttons == []  # no Cancel left on a finished job
        # Every scripted answer was asked for: the fault really happened.
        assert not iris.gptunnel.create_outcomes
        assert not iris.gptunnel.result_outcomes
        assert not iris.gptunnel.image_outcomes
        # 50 MB never read whole: the client stops at its 20 MiB cap (plus socket buffers).
        assert iris.gptunnel.image_bytes_sent < 40 * 1024 * 1024


async def test_retry_after_on_create_is_waited_out(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.create_outcomes.append(
            refuse(429, "too many requests", headers={"Retry-After": "1"})
        )
        await iris.say(ALICE, "/imagine a slow river")
        await iris.api.wait_until(lambda: creates(iris) == 1)
        first = time.monotonic()
        await iris.api.wait_until(lambda: creates(iris) == 2)
        assert time.monotonic() - first >= 0.9  # the provider's word, not the backoff's
        job = await ended(iris)
        assert job.state == "done"
        assert len(photos(iris, ALICE.id)) == 1


async def test_a_job_that_never_finishes_ends_at_the_deadline(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, job_timeout=1) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.say(ALICE, "/imagine forever")
        job = await ended(iris)
        assert (job.state, job.error) == ("timed_out", "timeout")
        assert status_text(iris, job) == TOO_LONG
        assert creates(iris) == 1
        assert polls(iris) > 3  # it kept asking until the deadline, never re-created


# --- other providers ---------------------------------------------------------------------------


PHOTO = photo_bytes(seed=7)


async def describe_once(iris: Iris) -> JobRecord:
    """Alice sends a photo in private; the describe job once it ended."""
    iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO)
    return await ended(iris)


async def test_describepicture_503_is_resent_as_never_accepted(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        iris.describepicture.status(503)
        job = await describe_once(iris)
        assert job.state == "done"
        assert len(iris.describepicture.payloads) == 2
        [answer] = [m for m in iris.api.bot_messages(ALICE.id) if m.text and "asked" in m.text]
        assert answer.reply_to_message_id == 1


@pytest.mark.parametrize(
    ("arrange", "error", "text", "requests"),
    [
        pytest.param(
            lambda iris: iris.describepicture.status(500),
            "unavailable",
            "DescribePicture is unavailable right now. Try again later.",
            1,
            id="500",
        ),
        pytest.param(
            lambda iris: iris.describepicture.fail(
                "QUOTA_EXCEEDED", status=429, message="quota exceeded"
            ),
            "quota",
            "DescribePicture: the usage quota is used up. Try again later.",
            1,
            id="quota-exhausted",
        ),
        pytest.param(
            lambda iris: iris.describepicture.fail("UNAUTHENTICATED", status=401),
            "auth",
            "DescribePicture rejected your key. Set a new one with /setkey.",
            1,
            id="401",
        ),
        pytest.param(
            lambda iris: iris.describepicture.malformed(),
            "bad_answer",
            UNREADABLE.format(provider="DescribePicture"),
            1,
            id="malformed-json",
        ),
    ],
)
async def test_describepicture_faults(
    serve: Serve,
    tmp_path: Path,
    arrange: Callable[[Iris], None],
    error: str,
    text: str,
    requests: int,
) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        arrange(iris)
        job = await describe_once(iris)
        assert (job.state, job.error) == ("failed", error)
        assert status_text(iris, job) == text
        assert len(iris.describepicture.payloads) == requests
        assert not iris.describepicture.replies


async def test_describepicture_hang_is_ended_by_the_deadline(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(
        serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID, job_timeout=1
    ) as iris:
        iris.describepicture.hang()
        job = await describe_once(iris)
        assert (job.state, job.error) == ("timed_out", "outcome_unknown")
        assert status_text(iris, job) == (
            "DescribePicture did not confirm the job, and may still have taken "
            "(and charged for) it. Check your DescribePicture account before trying again."
        )
        assert len(iris.describepicture.payloads) == 1


async def test_ailuna_store_cut_off_is_never_resent(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        iris.ailuna.fail("store", ailuna_cut())
        await iris.say(ALICE, "/imagine a fox --provider ailuna")
        job = await ended(iris)
        assert (job.state, job.error) == ("failed", "outcome_unknown")
        assert status_text(iris, job) == (
            "AiLuna did not confirm the job, and may still have taken (and charged for) it. "
            "Check your AiLuna account before trying again."
        )
        assert iris.requests("ailuna", "POST", "/api/v1/images") == 1


async def test_ailuna_show_errors_are_polled_through(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        iris.ailuna.pending_shows = 1
        iris.ailuna.fail(
            "show", ailuna_server_error(502), ailuna_rate_limited("0"), ailuna_server_error(500)
        )
        await iris.say(ALICE, "/imagine a fox --provider ailuna")
        job = await ended(iris)
        assert job.state == "done"
        assert iris.requests("ailuna", "POST", "/api/v1/images") == 1
        assert len(photos(iris, ALICE.id)) == 1


async def test_codexaeternum_faults_on_generate_and_fetch(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        iris.codex.image = photo_bytes(fmt="PNG")
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        # A 500 on the paid call: not sent again.
        iris.codex.generate_outcomes.append(Canned(500, {"detail": "boom"}))
        await iris.say(ALICE, "/imagine an owl --provider codexaeternum")
        job = await ended(iris)
        assert (job.state, job.error) == ("failed", "unavailable")
        assert iris.requests("codexaeternum", "POST", "/api/dev/image/") == 1
        # Fetches that fail or answer garbage are polled through.
        iris.codex.fetch_outcomes.extend([Canned(502, {"detail": "gateway"}), MALFORMED])
        await iris.say(ALICE, "/imagine an owl --provider codexaeternum")
        job = await ended(iris, 2)
        assert job.state == "done"
        assert iris.requests("codexaeternum", "POST", "/api/dev/image/") == 2
        assert not iris.codex.fetch_outcomes


# --- Telegram ----------------------------------------------------------------------------------

QUIET = Timing(poll_delays=(0.02,), poll_max=0.02, progress_every=60, action_every=60)
"""No progress edits or chat actions: the only edit of the status is its final text."""


async def test_flood_control_on_send_photo_is_waited_out(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.api.fail_next(
            "sendPhoto", error_code=429, description="Too Many Requests: retry after 1",
            retry_after=1,
        )  # fmt: skip
        await iris.say(ALICE, "/imagine a quiet street")
        job = await ended(iris)
        assert job.state == "done"
        first, second = iris.api.calls_of("sendPhoto")
        assert first.error is not None
        assert second.error is None
        assert len(photos(iris, ALICE.id)) == 1
        assert creates(iris) == 1


async def test_flood_control_on_the_status_edit_is_waited_out(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, timing=QUIET) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        iris.gptunnel.create_outcomes.append(refuse(401, "invalid api key"))
        iris.api.fail_next(
            "editMessageText", error_code=429, description="Too Many Requests: retry after 1",
            retry_after=1,
        )  # fmt: skip
        started = time.monotonic()
        await iris.say(ALICE, "/imagine a cat")
        job = await ended(iris)
        assert time.monotonic() - started >= 0.9
        assert status_text(iris, job) == REJECTED
        first, second = iris.api.calls_of("editMessageText")
        assert first.error is not None
        assert second.params["text"] == REJECTED


async def test_message_not_modified_is_ignored(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.progress = ("idle",) * 10  # several progress edits happen
        iris.api.fail_next(
            "editMessageText", error_code=400, times=3,
            description="Bad Request: message is not modified: specified new message content "
            "and reply markup are exactly the same as a current content and reply markup",
        )  # fmt: skip
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a quiet street")
        job = await ended(iris)
        assert job.state == "done"
        assert len(photos(iris, ALICE.id)) == 1
        refused = [e.error for e in iris.api.calls_of("editMessageText") if e.error is not None]
        assert len(refused) >= 3  # the injected ones, and any edit that really changed nothing
        assert all("message is not modified" in str(error) for error in refused)
        # Nothing was sent in place of the status message: it was never gone.
        sent = [c for c in iris.api.calls[mark:] if c.method == "sendMessage"]
        assert len(sent) == 1


async def test_result_arrives_after_the_user_deleted_the_status(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.say(ALICE, "/imagine fog")
        await iris.api.wait_until(lambda: polls(iris) > 0)
        delete_status_message(iris)
        iris.gptunnel.final_status = "done"
        job = await ended(iris)
        assert job.state == "done"
        assert len(photos(iris, ALICE.id)) == 1


async def test_failure_is_sent_anew_when_the_status_was_deleted(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, timing=QUIET) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        iris.gptunnel.create_outcomes.append(refuse(401, "invalid api key"))
        delete_status_message(iris)  # no progress edits: the first edit is the failure's
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a cat")
        job = await ended(iris)
        assert (job.state, job.error) == ("failed", "auth")
        status, notice = [c for c in iris.api.calls[mark:] if c.method == "sendMessage"]
        assert notice.params["text"] == REJECTED
        assert notice.params["reply_parameters"]["message_id"] == job.request_message_id
        assert status.params["text"] != REJECTED


async def test_flood_wait_past_the_deadline_still_delivers(serve: Serve, tmp_path: Path) -> None:
    # The deadline bounds the provider; a result in hand is not given up because Telegram waits.
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, job_timeout=1) as iris:
        iris.gptunnel.progress = ()
        iris.api.fail_next(
            "sendPhoto", error_code=429, description="Too Many Requests: retry after 2",
            retry_after=2,
        )  # fmt: skip
        await iris.say(ALICE, "/imagine a quiet street")
        job = await ended(iris)
        assert job.state == "done"
        assert len(photos(iris, ALICE.id)) == 1


@pytest.mark.parametrize("fault", ["502", "connection dropped"])
async def test_passing_telegram_errors_on_send_photo_are_retried(
    serve: Serve, tmp_path: Path, fault: str
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        if fault == "502":
            iris.api.fail_next("sendPhoto", error_code=502, description="Bad Gateway")
        else:
            iris.api.drop_next("sendPhoto")
        await iris.say(ALICE, "/imagine a quiet street")
        job = await ended(iris)
        assert job.state == "done"
        assert len(iris.api.calls_of("sendPhoto")) == 2
        assert len(photos(iris, ALICE.id)) == 1


async def test_telegram_down_at_delivery_keeps_the_result_and_sends_it_later(
    serve: Serve, tmp_path: Path
) -> None:
    patient = Timing(
        poll_delays=(0.02,), poll_max=0.02, progress_every=0.05, action_every=0.05,
        redelivery_delays=(0.1,),
    )  # fmt: skip
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, timing=patient) as iris:
        # More failures than one call's own retries: the call gives up, the job does not.
        iris.api.fail_next("sendPhoto", error_code=502, description="Bad Gateway", times=5)
        await iris.say(ALICE, "/imagine a quiet street")
        job = await ended(iris)
        assert job.state == "done"
        assert len(iris.api.calls_of("sendPhoto")) == 6
        assert len(photos(iris, ALICE.id)) == 1
        assert creates(iris) == 1


async def test_blocked_user_gets_one_attempt_and_is_marked_inactive(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.say(ALICE, "/imagine rain")
        await iris.api.wait_until(lambda: polls(iris) > 0)
        iris.api.block(ALICE.id)
        iris.gptunnel.final_status = "done"
        job = await ended(iris)
        assert (job.state, job.error) == ("failed", "blocked")
        assert len(iris.api.calls_of("sendPhoto")) == 1  # 403 is final: no loop of retries
        user = await iris.app.storage.users.get(ALICE.id)
        assert user is not None
        assert not user.active


async def test_blocked_user_whose_job_fails_is_marked_inactive(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.say(ALICE, "/imagine rain")
        await iris.api.wait_until(lambda: polls(iris) > 0)
        iris.api.block(ALICE.id)
        delete_status_message(iris)  # the failure notice goes as a new message: 403
        iris.gptunnel.final_status = "failed"
        job = await ended(iris)
        assert (job.state, job.error) == ("failed", "job_failed")
        user = await iris.app.storage.users.get(ALICE.id)
        assert user is not None
        assert not user.active
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_get_updates_failures_do_not_stop_polling(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        mark = iris.api.mark()
        iris.api.fail_next("getUpdates", error_code=502, description="Bad Gateway")
        iris.api.drop_next("getUpdates")
        # The long poll in flight returns empty within a second; the next two fail.
        await iris.api.wait_until(
            lambda: sum(c.error is not None for c in iris.api.calls_of("getUpdates")) == 2,
            timeout=15,
        )
        await iris.say(ALICE, "/start")
        reply = await iris.reply(ALICE.id, after=mark, timeout=15)
        assert "Iris" in reply.params["text"]
        failed = [c.error for c in iris.api.calls_of("getUpdates") if c.error is not None]
        assert sorted(failed) == ["Bad Gateway", "connection dropped"]
