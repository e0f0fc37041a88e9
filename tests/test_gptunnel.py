"""GPTunnel (Imagen 3) client against a loopback fake that checks every request."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from playground.providers.gptunnel import (
    API_KEY,
    GPTunnelFake,
    hang,
    huge,
    malformed,
    refuse,
    reply,
)
from playground.providers.server import LoopbackServer
from services.base import GeneratedImage, Pending, Submission
from services.exceptions import (
    AuthError,
    BadRequestError,
    InvalidOptionError,
    JobFailedError,
    NotFoundError,
    OutcomeUnknownError,
    OutOfCreditsError,
    ProviderError,
    RateLimitedError,
    ResponseTooLargeError,
    ServiceError,
    UnavailableError,
    UnexpectedResponseError,
)
from services.gptunnel import (
    ASPECT_RATIOS,
    GPTunnelClient,
    GPTunnelCredential,
)
from services.gptunnel.tasks import MediaTask
from tests.conftest import FAST_RETRY, SHORT_TIMEOUT, Serve

KEY = GPTunnelCredential(API_KEY)
CREATE = ("POST", "/v1/media/create")
RESULT = ("POST", "/v1/media/result")
TASK_ID = "6880f043e6060500018821de"
FIFTY_MB = 50 * 1024 * 1024


def make_client(
    session: aiohttp.ClientSession,
    server: LoopbackServer,
    *,
    timeout: aiohttp.ClientTimeout = SHORT_TIMEOUT,
    max_result_bytes: int = 20 * 1024 * 1024,
) -> GPTunnelClient:
    return GPTunnelClient(
        session,
        base_url=server.url,
        timeout=timeout,
        retry=FAST_RETRY,
        max_result_bytes=max_result_bytes,
    )


async def start(
    serve: Serve, session: aiohttp.ClientSession, fake: GPTunnelFake | None = None, **kwargs: Any
) -> tuple[GPTunnelFake, LoopbackServer, GPTunnelClient]:
    fake = fake or GPTunnelFake()
    server = await serve(fake.app())
    return fake, server, make_client(session, server, **kwargs)


def task_body(**changes: Any) -> dict[str, Any]:
    """The document's own example answer, with some fields changed (None value: removed)."""
    body: dict[str, Any] = {
        "code": 0,
        "id": TASK_ID,
        "model": "google-imagen-3",
        "prompt": "a fox --ar 9:21",
        "created_at": 1753280579,
        "status": "idle",
        "url": None,
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    return body


async def test_credential_holds_one_api_key() -> None:
    credential = GPTunnelCredential.from_parts(["abc123def456ghi789"])
    assert (credential.provider, credential.fields) == ("gptunnel", ("api_key",))
    assert credential.to_parts() == ("abc123def456ghi789",)
    assert "abc123def456ghi789" not in repr(credential)


async def test_create_sends_the_raw_key_and_the_documented_json(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, server, client = await start(serve, session)

    submission = await client.submit(KEY, prompt="a red fox in snow", options={"ar": "16:9"})

    assert submission == Submission(task_id=submission.task_id)
    assert submission.task_id in fake.tasks
    [call] = server.calls(*CREATE)
    assert call.headers["Authorization"] == API_KEY
    assert call.content_type == "application/json"
    assert call.json() == {"model": "google-imagen-3", "prompt": "a red fox in snow", "ar": "16:9"}
    assert fake.violations == []


async def test_create_returns_the_typed_task(serve: Serve, session: aiohttp.ClientSession) -> None:
    fake, _server, client = await start(serve, session)

    task = await client.create(KEY, prompt="a fox", ar="9:21")

    assert task == MediaTask(
        id=task.id,
        model="google-imagen-3",
        prompt="a fox --ar 9:21",
        status="idle",
        url=None,
        created_at=fake.tasks[task.id].created_at,
    )


async def test_the_configured_model_is_sent(serve: Serve, session: aiohttp.ClientSession) -> None:
    fake = GPTunnelFake(model="google-imagen-3-fast")
    server = await serve(fake.app())
    client = GPTunnelClient(session, base_url=server.url, model="google-imagen-3-fast")

    await client.submit(KEY, prompt="a fox", options={})

    assert server.calls(*CREATE)[0].json()["model"] == "google-imagen-3-fast"


async def test_ar_defaults_to_square(serve: Serve, session: aiohttp.ClientSession) -> None:
    _fake, server, client = await start(serve, session)

    await client.submit(KEY, prompt="a fox", options={})

    assert server.calls(*CREATE)[0].json()["ar"] == "1:1"


@pytest.mark.parametrize(
    ("options", "allowed"),
    [
        ({"ar": "2:1"}, ASPECT_RATIOS),
        ({"ar": "16x9"}, ASPECT_RATIOS),
        ({"style": "anime"}, ("ar",)),
    ],
)
async def test_invalid_options_are_refused_before_any_request(
    serve: Serve,
    session: aiohttp.ClientSession,
    options: dict[str, str],
    allowed: tuple[str, ...],
) -> None:
    _fake, server, client = await start(serve, session)

    with pytest.raises(InvalidOptionError) as caught:
        await client.submit(KEY, prompt="a fox", options=options)

    assert caught.value.allowed == allowed
    assert ", ".join(allowed) in str(caught.value)
    assert server.requests == []


async def test_the_seven_documented_ratios_are_offered() -> None:
    [spec] = GPTunnelClient.options
    assert (spec.name, spec.default) == ("ar", "1:1")
    assert spec.choices == ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")


@pytest.mark.parametrize("prompt", ["", "   \n"])
async def test_an_empty_prompt_is_refused_before_any_request(
    serve: Serve, session: aiohttp.ClientSession, prompt: str
) -> None:
    _fake, server, client = await start(serve, session)

    with pytest.raises(BadRequestError):
        await client.submit(KEY, prompt=prompt, options={})

    assert server.requests == []


@pytest.mark.parametrize("task_id", ["", "6880f043", "6880f043e6060500018821dz", "../../x" * 4])
async def test_a_malformed_task_id_is_refused_before_any_request(
    serve: Serve, session: aiohttp.ClientSession, task_id: str
) -> None:
    _fake, server, client = await start(serve, session)

    with pytest.raises(BadRequestError):
        await client.poll(KEY, task_id=task_id)

    assert server.requests == []


async def test_polls_until_done_then_returns_the_exact_image(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, server, client = await start(serve, session)
    submission = await client.submit(KEY, prompt="a fox", options={"ar": "4:3"})

    first = await client.poll(KEY, task_id=submission.task_id)
    second = await client.poll(KEY, task_id=submission.task_id)
    done = await client.poll(KEY, task_id=submission.task_id)

    assert (first, second) == (Pending("idle"), Pending("processing"))
    assert done == GeneratedImage(data=fake.image, mime_type="image/webp")
    results = server.calls(*RESULT)
    assert [r.json() for r in results] == [{"task_id": submission.task_id}] * 3
    assert all(r.headers["Authorization"] == API_KEY for r in results)
    assert all(r.content_type == "application/json" for r in results)
    [download] = server.calls("GET", f"/exp48h/{submission.task_id}_result.webp")
    assert "Authorization" not in download.headers
    assert fake.violations == []


@pytest.mark.parametrize("status", ["failed", "error", "cancelled", "canceled", "FAILED"])
async def test_a_failed_task_raises_job_failed(
    serve: Serve, session: aiohttp.ClientSession, status: str
) -> None:
    fake, _server, client = await start(
        serve, session, GPTunnelFake(progress=(), final_status=status)
    )
    submission = await client.submit(KEY, prompt="a fox", options={})

    with pytest.raises(JobFailedError, match=status):
        await client.poll(KEY, task_id=submission.task_id)

    assert fake.violations == []


@pytest.mark.parametrize("status", ["pending", "queued", "running", "processing"])
async def test_unknown_non_final_statuses_mean_poll_again(
    serve: Serve, session: aiohttp.ClientSession, status: str
) -> None:
    fake, _server, client = await start(serve, session, GPTunnelFake(progress=(status,)))
    submission = await client.submit(KEY, prompt="a fox", options={})

    assert await client.poll(KEY, task_id=submission.task_id) == Pending(status)
    assert fake.tasks[submission.task_id].polls == 1


async def test_done_without_a_url_is_unexpected(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, _server, client = await start(serve, session)
    fake.result_outcomes.append(reply(task_body(status="done")))

    with pytest.raises(UnexpectedResponseError, match="no result URL"):
        await client.poll(KEY, task_id=TASK_ID)


async def test_server_errors_on_result_are_retried(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, server, client = await start(serve, session)
    submission = await client.submit(KEY, prompt="a fox", options={})
    fake.result_outcomes.extend([refuse(500, "internal error"), refuse(502, "bad gateway")])

    assert await client.poll(KEY, task_id=submission.task_id) == Pending("idle")
    assert len(server.calls(*RESULT)) == 3


async def test_result_that_keeps_failing_gives_up_as_unavailable(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, server, client = await start(serve, session)
    fake.result_outcomes.extend([refuse(500, "internal error")] * 3)

    with pytest.raises(UnavailableError):
        await client.poll(KEY, task_id=TASK_ID)

    assert len(server.calls(*RESULT)) == FAST_RETRY.attempts


async def test_a_result_timeout_is_retried(serve: Serve, session: aiohttp.ClientSession) -> None:
    fake, server, client = await start(serve, session)
    submission = await client.submit(KEY, prompt="a fox", options={})
    fake.result_outcomes.append(hang())

    assert await client.poll(KEY, task_id=submission.task_id) == Pending("idle")
    assert len(server.calls(*RESULT)) == 2


async def test_a_create_timeout_is_outcome_unknown_and_never_resent(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, server, client = await start(serve, session)
    fake.create_outcomes.append(hang())

    with pytest.raises(OutcomeUnknownError):
        await client.submit(KEY, prompt="a fox", options={})

    assert len(server.calls(*CREATE)) == 1


async def test_a_500_on_create_is_not_resent(serve: Serve, session: aiohttp.ClientSession) -> None:
    fake, server, client = await start(serve, session)
    fake.create_outcomes.append(refuse(500, "internal error"))

    with pytest.raises(UnavailableError):
        await client.submit(KEY, prompt="a fox", options={})

    assert len(server.calls(*CREATE)) == 1


async def test_a_429_on_create_is_retried_as_never_accepted(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, server, client = await start(serve, session)
    fake.create_outcomes.append(refuse(429, "too many requests", headers={"Retry-After": "0"}))

    submission = await client.submit(KEY, prompt="a fox", options={})

    assert len(server.calls(*CREATE)) == 2
    assert list(fake.tasks) == [submission.task_id]


async def test_a_429_that_persists_is_rate_limited(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, _server, client = await start(serve, session)
    fake.create_outcomes.extend(
        [refuse(429, "balance check throttled", headers={"Retry-After": "0"})] * 3
    )

    with pytest.raises(RateLimitedError) as caught:
        await client.submit(KEY, prompt="a fox", options={})

    assert caught.value.retry_after == 0


async def test_a_wrong_key_is_an_auth_error(serve: Serve, session: aiohttp.ClientSession) -> None:
    fake, server, client = await start(serve, session)

    with pytest.raises(AuthError) as caught:
        await client.submit(
            GPTunnelCredential("shds-someone-elses-key-000000"), prompt="a fox", options={}
        )

    assert caught.value.status == 401
    assert len(server.calls(*CREATE)) == 1
    assert fake.tasks == {}


@pytest.mark.parametrize(
    "outcome",
    [
        refuse(402, "payment required"),
        refuse(400, "Insufficient balance"),
        refuse(403, "Недостаточно средств на балансе"),
        reply({"code": 5, "error": {"message": "Not enough funds on your balance"}}),
        reply({"code": 5, "message": "Пополните баланс"}),
    ],
)
async def test_out_of_balance_is_out_of_credits(
    serve: Serve, session: aiohttp.ClientSession, outcome: Any
) -> None:
    fake, server, client = await start(serve, session)
    fake.create_outcomes.append(outcome)

    with pytest.raises(OutOfCreditsError):
        await client.submit(KEY, prompt="a fox", options={})

    assert len(server.calls(*CREATE)) == 1


@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        (reply({"code": 3, "error": "prompt rejected by the safety filter"}), BadRequestError),
        (reply({"code": 7}), BadRequestError),
        (reply({"code": 1, "error": "invalid api key"}), AuthError),
        (refuse(400, "insufficient permissions"), BadRequestError),
    ],
)
async def test_a_nonzero_code_is_a_refusal(
    serve: Serve,
    session: aiohttp.ClientSession,
    outcome: Any,
    error: type[ProviderError],
) -> None:
    fake, _server, client = await start(serve, session)
    fake.create_outcomes.append(outcome)

    with pytest.raises(error) as caught:
        await client.submit(KEY, prompt="a fox", options={})

    assert type(caught.value) is error


async def test_a_nonzero_code_on_result_saying_not_found(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, _server, client = await start(serve, session)
    fake.result_outcomes.append(reply({"code": 4, "error": "Task not found"}))

    with pytest.raises(NotFoundError):
        await client.poll(KEY, task_id=TASK_ID)


async def test_malformed_json_on_create_is_unexpected(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, _server, client = await start(serve, session)
    fake.create_outcomes.append(malformed())

    with pytest.raises(UnexpectedResponseError, match="malformed JSON"):
        await client.submit(KEY, prompt="a fox", options={})


async def test_malformed_json_on_result_is_unexpected(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, _server, client = await start(serve, session)
    fake.result_outcomes.append(malformed())

    with pytest.raises(UnexpectedResponseError, match="malformed JSON"):
        await client.poll(KEY, task_id=TASK_ID)


@pytest.mark.parametrize(
    "payload",
    [
        [task_body()],
        task_body(code=None),
        task_body(code="0"),
        task_body(code=False),
        task_body(id=None),
        task_body(id="6880f043e6060500018821d"),
        task_body(id="6880f043e6060500018821dg"),
        task_body(id=6880),
        task_body(status=None),
        task_body(status=""),
        task_body(status=3),
        task_body(model=None),
        task_body(prompt=None),
        task_body(created_at=None),
        task_body(created_at="yesterday"),
        {key: value for key, value in task_body().items() if key != "url"},
        task_body(status="done", url="/exp48h/x.webp"),
        task_body(status="done", url="ftp://storage/x.webp"),
    ],
)
async def test_a_body_off_the_documented_schema_is_unexpected(
    serve: Serve, session: aiohttp.ClientSession, payload: Any
) -> None:
    fake, _server, client = await start(serve, session)
    fake.result_outcomes.append(reply(payload))

    with pytest.raises(UnexpectedResponseError):
        await client.poll(KEY, task_id=TASK_ID)


async def test_an_answer_about_another_task_is_unexpected(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, _server, client = await start(serve, session)
    fake.result_outcomes.append(reply(task_body(id="a" * 24)))

    with pytest.raises(UnexpectedResponseError, match="another task"):
        await client.poll(KEY, task_id=TASK_ID)


async def test_extra_fields_are_ignored(serve: Serve, session: aiohttp.ClientSession) -> None:
    fake, _server, client = await start(serve, session)
    fake.result_outcomes.append(reply(task_body(status="processing", progress=40, cost=1.5)))

    assert await client.poll(KEY, task_id=TASK_ID) == Pending("processing")


@pytest.mark.parametrize("status", [404, 403, 410])
async def test_an_expired_result_link_fails_the_job(
    serve: Serve, session: aiohttp.ClientSession, status: int
) -> None:
    fake, server, client = await start(serve, session, GPTunnelFake(progress=()))
    submission = await client.submit(KEY, prompt="a fox", options={})
    fake.image_outcomes.append(refuse(status, "NoSuchKey"))

    with pytest.raises(JobFailedError, match="expired") as caught:
        await client.poll(KEY, task_id=submission.task_id)

    assert caught.value.status == status
    assert len(server.calls("GET", f"/exp48h/{submission.task_id}_result.webp")) == 1


async def test_a_storage_server_error_is_retried(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, server, client = await start(serve, session, GPTunnelFake(progress=()))
    submission = await client.submit(KEY, prompt="a fox", options={})
    fake.image_outcomes.append(refuse(503, "slow down"))

    result = await client.poll(KEY, task_id=submission.task_id)

    assert result == GeneratedImage(data=fake.image, mime_type="image/webp")
    assert len(server.calls("GET", f"/exp48h/{submission.task_id}_result.webp")) == 2


async def test_a_result_that_is_not_an_image_is_unexpected(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake = GPTunnelFake(progress=(), image=b"<html>Access denied</html>")
    _fake, _server, client = await start(serve, session, fake)
    submission = await client.submit(KEY, prompt="a fox", options={})

    with pytest.raises(UnexpectedResponseError, match="not an image"):
        await client.poll(KEY, task_id=submission.task_id)


async def test_a_50mb_result_is_refused_from_its_content_length(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, _server, client = await start(serve, session, GPTunnelFake(progress=()))
    submission = await client.submit(KEY, prompt="a fox", options={})
    fake.image_outcomes.append(huge(FIFTY_MB))

    with pytest.raises(ResponseTooLargeError) as caught:
        await client.poll(KEY, task_id=submission.task_id)

    # Refused on the header: the declared size is known and the body was never read.
    assert (caught.value.size, caught.value.limit) == (FIFTY_MB, 20 * 1024 * 1024)
    assert fake.image_bytes_sent < FIFTY_MB // 2


async def test_a_50mb_streamed_result_is_cut_off_at_the_limit(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    limit = 256 * 1024
    fake, _server, client = await start(
        serve, session, GPTunnelFake(progress=()), max_result_bytes=limit
    )
    submission = await client.submit(KEY, prompt="a fox", options={})
    fake.image_outcomes.append(huge(FIFTY_MB, declare_length=False))

    with pytest.raises(ResponseTooLargeError) as caught:
        await client.poll(KEY, task_id=submission.task_id)

    assert (caught.value.size, caught.value.limit) == (None, limit)
    assert fake.image_bytes_sent < FIFTY_MB // 2


async def test_the_api_key_never_reaches_errors_or_logs(
    serve: Serve, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake, _server, client = await start(serve, session, GPTunnelFake(progress=()))
    errors: list[BaseException] = []

    async def attempt(script: Any) -> None:
        script()
        try:
            submission = await client.submit(KEY, prompt="a fox", options={})
            await client.poll(KEY, task_id=submission.task_id)
        except ServiceError as e:
            errors.append(e)

    await attempt(lambda: fake.create_outcomes.append(hang()))
    await attempt(lambda: fake.create_outcomes.append(refuse(401, "bad key")))
    await attempt(lambda: fake.create_outcomes.append(refuse(402, "no balance")))
    await attempt(lambda: fake.create_outcomes.append(malformed()))
    await attempt(lambda: fake.create_outcomes.append(reply({"code": 9, "error": "nope"})))
    await attempt(lambda: fake.result_outcomes.extend([refuse(500, "oops")] * 3))
    await attempt(lambda: fake.image_outcomes.append(refuse(404, "NoSuchKey")))
    await attempt(lambda: fake.image_outcomes.append(huge(FIFTY_MB)))
    ok = await client.submit(KEY, prompt="a fox", options={})
    assert isinstance(await client.poll(KEY, task_id=ok.task_id), GeneratedImage)

    assert len(errors) == 8
    for error in errors:
        chain: BaseException | None = error
        while chain is not None:
            assert API_KEY not in str(chain)
            assert API_KEY not in repr(chain)
            chain = chain.__cause__
    assert caplog.records
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    ("headers", "body", "problem"),
    [
        (
            {"Authorization": f"Bearer {API_KEY}"},
            {"model": "google-imagen-3", "prompt": "x", "ar": "1:1"},
            "Bearer",
        ),
        ({"Authorization": API_KEY}, {"model": "google-imagen-3", "prompt": "x"}, "ar must be"),
        ({"Authorization": API_KEY}, {"model": "imagen", "prompt": "x", "ar": "1:1"}, "model"),
        (
            {"Authorization": API_KEY},
            {"model": "google-imagen-3", "prompt": " ", "ar": "1:1"},
            "prompt",
        ),
        (
            {"Authorization": API_KEY},
            {"model": "google-imagen-3", "prompt": "x", "ar": "1:1", "aspect": "1:1"},
            "unexpected",
        ),
    ],
)
async def test_the_fake_refuses_what_the_document_does_not_allow(
    serve: Serve,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    body: dict[str, str],
    problem: str,
) -> None:
    fake = GPTunnelFake()
    server = await serve(fake.app())

    async with session.post(f"{server.url}/v1/media/create", headers=headers, json=body) as r:
        assert r.status in (400, 401)
        assert problem in (await r.json())["error"]
    assert fake.tasks == {}


async def test_the_fake_storage_refuses_credentials_and_accepts_get_polls(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    fake, server, client = await start(serve, session, GPTunnelFake(progress=()))
    submission = await client.submit(KEY, prompt="a fox", options={})
    url = f"{server.url}/v1/media/result"

    async with session.get(
        url, params={"task_id": submission.task_id}, headers={"Authorization": API_KEY}
    ) as r:
        done = await r.json()
    async with session.get(done["url"], headers={"Authorization": API_KEY}) as r:
        assert r.status == 400

    assert done["status"] == "done"
    assert fake.violations == ["Authorization header sent to the result storage host"]
