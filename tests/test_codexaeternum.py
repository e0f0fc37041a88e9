"""The CodexAeternum client against a loopback fake that checks every request."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import pytest
from PIL import Image

from playground.providers.codexaeternum import (
    HANG,
    MALFORMED,
    Canned,
    FakeCodexAeternum,
    PendingStyle,
)
from playground.providers.server import LoopbackServer
from services.base import CredentialFormatError, GeneratedImage, Pending, Turn
from services.codexaeternum import (
    CodexAeternumClient,
    CodexAeternumCredential,
)
from services.codexaeternum.tokens import MemorySessionTokenStore
from services.exceptions import (
    AuthError,
    BadRequestError,
    InvalidOptionError,
    OutcomeUnknownError,
    OutOfCreditsError,
    ServiceError,
    UnavailableError,
    UnexpectedResponseError,
)
from tests.conftest import FAST_RETRY, SHORT_TIMEOUT, Serve

EMAIL = "ada@example.com"
SECRET = "s3cr3t-stoken-0123456789abcdef"
CREDENTIAL = CodexAeternumCredential(EMAIL, SECRET)
EXCHANGE = ("POST", "/login/tokenexchange/")
GENERATE = ("POST", "/api/dev/image/")
FETCH = ("GET", "/api/dev/image/")
DESCRIBE = ("POST", "/describe_image/")

E = TypeVar("E", bound=BaseException)


def make_image(fmt: str = "PNG", size: tuple[int, int] = (32, 24)) -> bytes:
    """A real small image of one color."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, format=fmt)
    return out.getvalue()


def make_noise_png(min_bytes: int) -> bytes:
    """A PNG of random pixels, which cannot compress, at least `min_bytes` long."""
    side = int((min_bytes / 3) ** 0.5) + 8
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    assert len(out.getvalue()) >= min_bytes
    return out.getvalue()


@dataclass
class Env:
    """A fake provider, its server and a client pointed at it."""

    fake: FakeCodexAeternum
    server: LoopbackServer
    client: CodexAeternumClient

    def count(self, call: tuple[str, str]) -> int:
        """How many requests the fake got for (method, path)."""
        return len(self.server.calls(*call))


@pytest.fixture
def fake() -> FakeCodexAeternum:
    return FakeCodexAeternum(users={EMAIL: SECRET}, image=make_image())


@pytest.fixture
async def env(fake: FakeCodexAeternum, serve: Serve, session: aiohttp.ClientSession) -> Env:
    server = await serve(fake.app())
    return Env(fake, server, CodexAeternumClient(session, base_url=server.url, retry=FAST_RETRY))


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture, fake: FakeCodexAeternum) -> Iterator[None]:
    """Every test runs with DEBUG logging; no record may hold the secret or a session token."""
    caplog.set_level(logging.DEBUG)
    yield
    secrets = [SECRET, *fake.issued]
    # In teardown, caplog.records would hold only the teardown's own records.
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = record.getMessage()
        assert not any(s in text for s in secrets), text


async def expect(error: type[E], call: Awaitable[object], fake: FakeCodexAeternum) -> E:
    """Await `call`, check it raises `error`, and that no secret shows in it or its causes."""
    with pytest.raises(error) as info:
        await call
    secrets = [SECRET, *fake.issued]
    seen: BaseException | None = info.value
    while seen is not None:
        assert not any(s in str(seen) or s in repr(seen) for s in secrets), repr(seen)
        seen = seen.__cause__ or seen.__context__
    return info.value


def ask(question: str = "How many mountains?") -> list[Turn]:
    return [Turn("user", question)]


# --- credential ---------------------------------------------------------------------------


def test_credential_from_parts_and_masking() -> None:
    credential = CodexAeternumCredential.from_parts([EMAIL, SECRET])
    assert credential == CREDENTIAL
    assert credential.to_parts() == (EMAIL, SECRET)
    assert EMAIL in credential.masked()
    for shown in (credential.masked(), repr(credential), str(credential), credential.cache_key()):
        assert SECRET not in shown
    assert credential.cache_key() == CodexAeternumCredential(EMAIL, SECRET).cache_key()
    assert credential.cache_key() != CodexAeternumCredential(EMAIL, SECRET + "x").cache_key()


@pytest.mark.parametrize(
    "parts",
    [
        [EMAIL],
        [EMAIL, SECRET, "extra"],
        ["not-an-email", SECRET],
        ["a@b@example.com", SECRET],
        ["ada@localhost", SECRET],
        ["ada@.example.com", SECRET],
        ["ada @example.com", SECRET],
        [EMAIL, ""],
        [EMAIL, "two words"],
    ],
)
def test_credential_rejects_bad_parts(parts: list[str]) -> None:
    with pytest.raises(CredentialFormatError) as info:
        CodexAeternumCredential.from_parts(parts)
    assert SECRET not in str(info.value)


# --- token exchange -----------------------------------------------------------------------


async def test_exchange_sends_form_and_returns_token(env: Env) -> None:
    token = await env.client.exchange_token(CREDENTIAL)

    assert token in env.fake.tokens
    (request,) = env.server.calls(*EXCHANGE)
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.form() == {"stoken": SECRET, "email": EMAIL}
    # The exchanged token is cached: the next call does not exchange again.
    await env.client.poll(CREDENTIAL, task_id="task-1")
    assert env.count(EXCHANGE) == 1
    assert env.server.calls(*FETCH)[0].headers["Session-Token"] == token


async def test_exchange_rejected_is_auth_error(env: Env) -> None:
    wrong = CodexAeternumCredential(EMAIL, "wrong-secret-token")
    await expect(AuthError, env.client.exchange_token(wrong), env.fake)


@pytest.mark.parametrize("status", [400, 403])
async def test_exchange_refusal_statuses_are_auth_errors(env: Env, status: int) -> None:
    env.fake.exchange_outcomes.append(Canned(status, {"detail": "nope"}))
    error = await expect(AuthError, env.client.exchange_token(CREDENTIAL), env.fake)
    assert error.status == status


async def test_exchange_without_session_token_is_unexpected(env: Env) -> None:
    env.fake.exchange_outcomes.append(Canned(200, {"session_token": ""}))
    await expect(UnexpectedResponseError, env.client.exchange_token(CREDENTIAL), env.fake)


async def test_exchange_is_retried_on_server_error(env: Env) -> None:
    env.fake.exchange_outcomes.extend([Canned(500, {}), Canned(503, {})])
    assert await env.client.exchange_token(CREDENTIAL) in env.fake.tokens
    assert env.count(EXCHANGE) == 3


async def test_rejected_credential_fails_a_call_with_auth_error(env: Env) -> None:
    wrong = CodexAeternumCredential(EMAIL, "wrong-secret-token")
    await expect(AuthError, env.client.submit(wrong, prompt="a cat", options={}), env.fake)
    assert env.count(GENERATE) == 0


# --- session token cache ------------------------------------------------------------------


async def test_token_is_cached_across_calls(env: Env) -> None:
    submission = await env.client.submit(CREDENTIAL, prompt="a cat", options={})
    await env.client.poll(CREDENTIAL, task_id=submission.task_id)
    await env.client.describe(CREDENTIAL, image=make_image(), conversation=ask())
    await env.client.submit(CREDENTIAL, prompt="a dog", options={})

    assert env.count(EXCHANGE) == 1
    (token,) = env.fake.issued
    assert env.server.calls(*FETCH)[0].headers["Session-Token"] == token


async def test_concurrent_calls_exchange_once(env: Env) -> None:
    await asyncio.gather(*(env.client.poll(CREDENTIAL, task_id="task-1") for _ in range(5)))
    assert env.count(EXCHANGE) == 1
    assert env.count(FETCH) == 5


async def test_token_store_is_shared_and_keyed_without_the_secret(
    env: Env, session: aiohttp.ClientSession
) -> None:
    store = MemorySessionTokenStore()
    first = CodexAeternumClient(
        session, base_url=env.server.url, retry=FAST_RETRY, token_store=store
    )
    token = await first.exchange_token(CREDENTIAL)
    assert await store.get(CREDENTIAL.cache_key()) == token
    # A new client on the same store (the bot after a restart) reuses the token.
    second = CodexAeternumClient(
        session, base_url=env.server.url, retry=FAST_RETRY, token_store=store
    )
    await second.poll(CREDENTIAL, task_id="task-1")
    assert env.count(EXCHANGE) == 1


@pytest.mark.parametrize("operation", ["submit", "poll", "describe"])
async def test_expired_token_is_exchanged_again_once(env: Env, operation: str) -> None:
    await env.client.exchange_token(CREDENTIAL)
    env.fake.expire_tokens()
    if operation == "submit":
        await env.client.submit(CREDENTIAL, prompt="a cat", options={})
    elif operation == "poll":
        await env.client.poll(CREDENTIAL, task_id="task-1")
    else:
        await env.client.describe(CREDENTIAL, image=make_image(), conversation=ask())

    assert env.count(EXCHANGE) == 2
    sent = {"submit": GENERATE, "poll": FETCH, "describe": DESCRIBE}[operation]
    assert env.count(sent) == 2  # the refused call and its single retry
    # The new token is the one cached and sent.
    await env.client.poll(CREDENTIAL, task_id="task-1")
    assert env.count(EXCHANGE) == 2
    assert env.server.calls(*FETCH)[-1].headers["Session-Token"] == env.fake.issued[-1]


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_twice_is_auth_error(env: Env, status: int) -> None:
    # "credentials" must not read as "credits".
    refused = Canned(status, {"detail": "Invalid credentials"})
    env.fake.generate_outcomes.extend([refused, refused])
    error = await expect(
        AuthError, env.client.submit(CREDENTIAL, prompt="a cat", options={}), env.fake
    )
    assert error.status == status
    assert env.count(EXCHANGE) == 2
    assert env.count(GENERATE) == 2


async def test_poll_refused_twice_is_auth_error(env: Env) -> None:
    env.fake.fetch_outcomes.extend([Canned(401, {}), Canned(401, {})])
    await expect(AuthError, env.client.poll(CREDENTIAL, task_id="task-1"), env.fake)
    assert env.count(EXCHANGE) == 2
    assert env.count(FETCH) == 2


# --- generate -----------------------------------------------------------------------------


async def test_submit_sends_token_as_cookie_and_form_field(env: Env) -> None:
    submission = await env.client.submit(CREDENTIAL, prompt="a red fox", options={})

    assert submission.task_id in env.fake.jobs
    assert submission.credits is None
    (request,) = env.server.calls(*GENERATE)
    (token,) = env.fake.issued
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.form() == {"session_token": token, "prompt": "a red fox"}
    assert request.cookies == {"session_token": token}
    assert env.fake.credits == 53


async def test_submit_reads_credits_when_present(env: Env) -> None:
    env.fake.generate_outcomes.append(Canned(200, {"task_id": 17, "credits": 9}))
    submission = await env.client.submit(CREDENTIAL, prompt="a cat", options={})
    assert (submission.task_id, submission.credits) == ("17", 9)


async def test_submit_refuses_bad_input_before_any_request(env: Env) -> None:
    with pytest.raises(InvalidOptionError):
        await env.client.submit(CREDENTIAL, prompt="a cat", options={"ar": "16:9"})
    await expect(
        BadRequestError, env.client.submit(CREDENTIAL, prompt="  \n", options={}), env.fake
    )
    assert env.server.requests == []


async def test_submit_that_times_out_is_outcome_unknown_and_not_resent(
    env: Env, session: aiohttp.ClientSession
) -> None:
    client = CodexAeternumClient(
        session, base_url=env.server.url, retry=FAST_RETRY, timeout=SHORT_TIMEOUT
    )
    env.fake.generate_outcomes.append(HANG)
    await expect(
        OutcomeUnknownError, client.submit(CREDENTIAL, prompt="a cat", options={}), env.fake
    )
    assert env.count(GENERATE) == 1


async def test_submit_without_task_id_is_unexpected(env: Env) -> None:
    env.fake.generate_outcomes.append(Canned(200, {"status": "ok"}))
    await expect(
        UnexpectedResponseError,
        env.client.submit(CREDENTIAL, prompt="a cat", options={}),
        env.fake,
    )


# --- fetch result -------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["missing", "null", "empty", "202", "404"])
async def test_poll_is_pending_then_returns_the_exact_image(env: Env, style: PendingStyle) -> None:
    env.fake.pending_polls = 3
    env.fake.pending_style = style
    submission = await env.client.submit(CREDENTIAL, prompt="a cat", options={})

    results = [await env.client.poll(CREDENTIAL, task_id=submission.task_id) for _ in range(4)]

    assert results[:3] == [Pending()] * 3
    done = results[3]
    assert isinstance(done, GeneratedImage)
    assert done.data == env.fake.image
    assert done.mime_type == "image/png"
    for request in env.server.calls(*FETCH):
        assert request.query == {"task_id": submission.task_id}
        assert request.headers["Session-Token"] == env.fake.issued[0]
        assert "session_token" not in request.query


async def test_poll_accepts_a_data_uri_prefix(env: Env) -> None:
    env.fake.data_prefix = True
    submission = await env.client.submit(CREDENTIAL, prompt="a cat", options={})
    done = await env.client.poll(CREDENTIAL, task_id=submission.task_id)
    assert isinstance(done, GeneratedImage)
    assert done.data == env.fake.image


async def test_poll_decodes_jpeg_and_reads_credits(env: Env) -> None:
    jpeg = make_image("JPEG")
    env.fake.fetch_outcomes.append(
        Canned(200, {"task-9": base64.b64encode(jpeg).decode(), "credits": 12})
    )
    done = await env.client.poll(CREDENTIAL, task_id="task-9")
    assert done == GeneratedImage(data=jpeg, mime_type="image/jpeg", credits=12)


async def test_poll_retries_server_errors(env: Env) -> None:
    submission = await env.client.submit(CREDENTIAL, prompt="a cat", options={})
    env.fake.fetch_outcomes.extend([Canned(500, {}), Canned(502, {})])
    done = await env.client.poll(CREDENTIAL, task_id=submission.task_id)
    assert isinstance(done, GeneratedImage)
    assert env.count(FETCH) == 3


async def test_poll_gives_up_after_repeated_server_errors(env: Env) -> None:
    env.fake.fetch_outcomes.extend([Canned(500, {})] * 3)
    await expect(UnavailableError, env.client.poll(CREDENTIAL, task_id="task-1"), env.fake)
    assert env.count(FETCH) == 3


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("%%% not base64 %%%", "not valid base64"),
        (base64.b64encode(b"hello, not an image").decode(), "not an image"),
        (12345, "not a base64 string"),
    ],
)
async def test_poll_refuses_a_result_that_is_not_an_image(
    env: Env, value: object, why: str
) -> None:
    env.fake.fetch_outcomes.append(Canned(200, {"task-1": value}))
    error = await expect(
        UnexpectedResponseError, env.client.poll(CREDENTIAL, task_id="task-1"), env.fake
    )
    assert why in str(error)


# --- describe -----------------------------------------------------------------------------


async def test_describe_sends_json_with_promp_and_plain_base64(env: Env) -> None:
    image = make_image("JPEG")
    conversation = [
        Turn("user", "Describe this image"),
        Turn("model", "Mountains."),
        Turn("user", "How many mountains?"),
    ]

    description = await env.client.describe(CREDENTIAL, image=image, conversation=conversation)

    assert description.text == "A mountain range at sunset."
    assert description.credits == 53
    assert description.image_resized is False
    (request,) = env.server.calls(*DESCRIBE)
    (token,) = env.fake.issued
    assert request.content_type == "application/json"
    assert request.cookies == {"session_token": token}
    assert request.json() == {
        "session_token": token,
        "promp": "How many mountains?",
        "image_base64": base64.b64encode(image).decode(),
    }
    assert env.fake.described == [image]


async def test_describe_joins_several_answers(env: Env) -> None:
    env.fake.answers = ["First part.", "Second part."]
    description = await env.client.describe(CREDENTIAL, image=make_image(), conversation=ask())
    assert description.text == "First part.\n\nSecond part."


async def test_describe_brings_a_large_image_under_the_limit(env: Env) -> None:
    big = make_noise_png(7_000_000)

    description = await env.client.describe(CREDENTIAL, image=big, conversation=ask())

    assert description.image_resized is True
    (sent,) = env.fake.described  # the fake answers 413 to anything over 5,000,000 bytes
    assert len(sent) <= 5_000_000
    Image.open(io.BytesIO(sent)).verify()


@pytest.mark.parametrize(
    "conversation",
    [[], [Turn("user", "What is it?"), Turn("model", "A cat.")], [Turn("user", "   ")]],
)
async def test_describe_needs_a_last_user_question(env: Env, conversation: list[Turn]) -> None:
    await expect(
        BadRequestError,
        env.client.describe(CREDENTIAL, image=make_image(), conversation=conversation),
        env.fake,
    )
    assert env.server.requests == []


@pytest.mark.parametrize(
    "body",
    [
        {"description": ["<b64>"], "credits": 3},
        {"description": ["<b64>", {"role": "assistant", "content": ""}]},
        {"task_id": "x", "credits": 3},
    ],
)
async def test_describe_without_an_answer_is_unexpected(env: Env, body: object) -> None:
    env.fake.describe_outcomes.append(Canned(200, body))
    await expect(
        UnexpectedResponseError,
        env.client.describe(CREDENTIAL, image=make_image(), conversation=ask()),
        env.fake,
    )


# --- errors -------------------------------------------------------------------------------


async def test_malformed_json_is_unexpected(env: Env) -> None:
    env.fake.generate_outcomes.append(MALFORMED)
    env.fake.fetch_outcomes.append(MALFORMED)
    env.fake.describe_outcomes.append(MALFORMED)
    client = env.client
    await expect(
        UnexpectedResponseError, client.submit(CREDENTIAL, prompt="a", options={}), env.fake
    )
    await expect(UnexpectedResponseError, client.poll(CREDENTIAL, task_id="t"), env.fake)
    await expect(
        UnexpectedResponseError,
        client.describe(CREDENTIAL, image=make_image(), conversation=ask()),
        env.fake,
    )
    assert env.count(GENERATE) == 1  # a paid call with a bad answer is not sent again


async def test_out_of_credits(env: Env) -> None:
    env.fake.credits = 0
    await expect(OutOfCreditsError, env.client.submit(CREDENTIAL, prompt="a", options={}), env.fake)
    await expect(
        OutOfCreditsError,
        env.client.describe(CREDENTIAL, image=make_image(), conversation=ask()),
        env.fake,
    )


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, {"detail": "Not enough credits"}),
        (400, {"error": "No tienes créditos suficientes"}),
        (200, {"error": "Saldo insuficiente"}),
    ],
)
async def test_credit_error_bodies_are_out_of_credits(env: Env, status: int, body: object) -> None:
    env.fake.generate_outcomes.append(Canned(status, body))
    await expect(OutOfCreditsError, env.client.submit(CREDENTIAL, prompt="a", options={}), env.fake)
    assert env.count(EXCHANGE) == 1  # about credits, not the token: no new exchange


async def test_other_error_bodies_keep_the_status_meaning(env: Env) -> None:
    env.fake.describe_outcomes.append(Canned(400, {"detail": "Insufficient permissions"}))
    await expect(
        BadRequestError,
        env.client.describe(CREDENTIAL, image=make_image(), conversation=ask()),
        env.fake,
    )


async def test_errors_are_service_errors(env: Env) -> None:
    # The bot catches ServiceError to turn any failure into a short message.
    env.fake.fetch_outcomes.append(Canned(418, {}))
    await expect(ServiceError, env.client.poll(CREDENTIAL, task_id="task-1"), env.fake)
