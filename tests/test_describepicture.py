"""DescribePicture against a loopback fake: the envelope, the request, errors and the quota."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import aiohttp
import pytest
from PIL import Image

from playground.providers.describepicture import (
    DOCUMENTED_ERROR,
    PATH,
    FakeDescribePicture,
    open_envelope,
)
from playground.providers.server import LoopbackServer
from services.base import Role, Turn
from services.describepicture import (
    PUBLISHED_KEY_HEX,
    DescribePictureClient,
    DescribePictureCredential,
    HourlyQuota,
    MemoryQuotaStore,
    decrypt_envelope,
)
from services.describepicture.envelope import encrypt_envelope
from services.exceptions import (
    AuthError,
    BadRequestError,
    InvalidImageError,
    NotFoundError,
    OutcomeUnknownError,
    OutOfCreditsError,
    ProviderError,
    QuotaExceededError,
    UnavailableError,
    UnexpectedResponseError,
)
from tests.conftest import FAST_RETRY, SHORT_TIMEOUT, Serve

KEY = bytes.fromhex(PUBLISHED_KEY_HEX)
APP_ID = "app-7f3c9e21d4b8"
CREDENTIAL = DescribePictureCredential(APP_ID)
ASK = (Turn("user", "What is in this picture?"),)


def make_image(
    fmt: str = "JPEG", size: tuple[int, int] = (32, 24), *, noise: bool = False
) -> bytes:
    """Real image bytes made with Pillow; `noise` makes them hard to compress."""
    if noise:
        rng = random.Random(7)
        im = Image.frombytes(
            "RGB", size, bytes(rng.getrandbits(8) for _ in range(3 * size[0] * size[1]))
        )
    else:
        im = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class KeyRecordingStore(MemoryQuotaStore):
    """A MemoryQuotaStore that remembers the keys it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    async def try_acquire(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        self.keys.append(key)
        return await super().try_acquire(key, now=now, window=window, limit=limit)


@dataclass
class Env:
    """A running fake and a way to make clients pointed at it."""

    fake: FakeDescribePicture
    server: LoopbackServer
    session: aiohttp.ClientSession

    def client(
        self,
        *,
        quota: HourlyQuota | None = None,
        key: bytes = KEY,
        timeout: aiohttp.ClientTimeout = SHORT_TIMEOUT,
        max_image_bytes: int = 5_000_000,
    ) -> DescribePictureClient:
        return DescribePictureClient(
            self.session,
            base_url=self.server.url + PATH,
            timeout=timeout,
            retry=FAST_RETRY,
            encryption_key=key,
            quota=quota,
            max_image_bytes=max_image_bytes,
        )

    def envelopes(self) -> list[dict[str, str]]:
        return [cast(dict[str, str], r.json()) for r in self.server.requests]


@pytest.fixture
async def env(serve: Serve, session: aiohttp.ClientSession) -> Env:
    fake = FakeDescribePicture(key=KEY, credits={APP_ID: 10})
    server = await serve(fake.app())
    return Env(fake=fake, server=server, session=session)


# --- the envelope ---------------------------------------------------------------------------


def test_envelope_round_trip_and_fake_decrypts_independently() -> None:
    payload = {"appId": APP_ID, "prompt": [{"role": "user", "text": "描述这张图片"}]}
    envelope = encrypt_envelope(payload, KEY)
    assert set(envelope) == {"iv", "encryptedData"}
    assert len(base64.b64decode(envelope["iv"])) == 12
    plaintext = json.dumps(payload).encode()
    assert len(base64.b64decode(envelope["encryptedData"])) == len(plaintext) + 16
    assert decrypt_envelope(envelope, KEY) == payload
    assert json.loads(open_envelope(envelope["iv"], envelope["encryptedData"], KEY)) == payload


def test_envelope_tampered_or_other_key_is_refused() -> None:
    envelope = encrypt_envelope({"appId": APP_ID}, KEY)
    sealed = bytearray(base64.b64decode(envelope["encryptedData"]))
    sealed[0] ^= 1
    tampered = {**envelope, "encryptedData": base64.b64encode(sealed).decode()}
    other_key = bytes(32)
    for bad, key in ((tampered, KEY), (envelope, other_key)):
        with pytest.raises(ValueError, match="MAC"):
            decrypt_envelope(bad, key)
        with pytest.raises(ValueError, match="MAC"):
            open_envelope(bad["iv"], bad["encryptedData"], key)
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_envelope({}, KEY[:16])


async def test_client_refuses_a_key_that_is_not_aes_256(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        DescribePictureClient(session, encryption_key=KEY[:16])


async def test_request_is_one_encrypted_post_with_the_documented_fields(env: Env) -> None:
    image = make_image("JPEG")
    result = await env.client().describe(CREDENTIAL, image=image, conversation=ASK)

    assert result.text == "A image/jpeg picture. You asked: What is in this picture?"
    assert result.credits == 9
    assert result.image_resized is False
    [request] = env.server.requests
    assert (request.method, request.path, request.content_type) == (
        "POST",
        PATH,
        "application/json",
    )
    envelope = request.json()
    assert set(envelope) == {"iv", "encryptedData"}
    assert APP_ID.encode() not in request.body
    own = json.loads(open_envelope(envelope["iv"], envelope["encryptedData"], KEY))
    assert (
        own
        == env.fake.payloads[0]
        == {
            "imageUrl": "",
            "imageBase64": base64.b64encode(image).decode(),
            "prompt": [{"role": "user", "text": "What is in this picture?"}],
            "mimeType": "image/jpeg",
            "appId": APP_ID,
        }
    )


async def test_every_request_has_a_fresh_nonce(env: Env) -> None:
    client = env.client()
    image = make_image()
    for _ in range(2):
        await client.describe(CREDENTIAL, image=image, conversation=ASK)
    first, second = env.envelopes()
    assert first["iv"] != second["iv"]
    assert first["encryptedData"] != second["encryptedData"]
    assert env.fake.payloads[0] == env.fake.payloads[1]


async def test_client_with_the_wrong_key_is_refused_by_the_provider(env: Env) -> None:
    with pytest.raises(BadRequestError, match="DECRYPTION_FAILED") as caught:
        await env.client(key=bytes(32)).describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert caught.value.status == 400
    assert len(env.server.requests) == 1
    assert env.fake.payloads == []


def good_payload() -> dict[str, Any]:
    """A request body the fake accepts, for breaking one field at a time."""
    return {
        "imageUrl": "",
        "imageBase64": base64.b64encode(make_image("PNG")).decode(),
        "prompt": [{"role": "user", "text": "describe"}],
        "mimeType": "image/png",
        "appId": APP_ID,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, None),
        ({"imageUrl": "https://api.telegram.org/file/bot123:SECRET/photo.jpg"}, "imageUrl"),
        ({"mimeType": "image/jpeg"}, "mimeType"),
        ({"prompt": [{"role": "model", "text": "a cat"}]}, "prompt"),
        ({"prompt": [{"role": "system", "text": "hi"}, {"role": "user", "text": "x"}]}, "prompt"),
        ({"prompt": []}, "prompt"),
        ({"imageBase64": base64.b64encode(b"not an image").decode()}, "imageBase64"),
        ({"extra": 1}, "body"),
    ],
)
async def test_the_fake_checks_what_the_document_requires(
    env: Env, change: dict[str, Any], field: str | None
) -> None:
    payload = {**good_payload(), **change}
    async with env.session.post(
        env.server.url + PATH, json=encrypt_envelope(payload, KEY)
    ) as response:
        body = await response.json()
    if field is None:
        assert response.status == 200
        assert body["lastCredits"] == 9
    else:
        assert response.status == 400
        assert body["error"]["details"]["field"] == field


async def test_the_fake_refuses_an_unencrypted_body(env: Env) -> None:
    async with env.session.post(env.server.url + PATH, json=good_payload()) as response:
        body = await response.json()
    assert response.status == 400
    assert body["error"]["code"] == "INVALID_REQUEST"
    assert env.fake.payloads == []


# --- the conversation and the image ----------------------------------------------------------


async def test_multi_turn_prompt_is_sent_in_order(env: Env) -> None:
    conversation = (
        Turn("user", "描述这张图片"),
        Turn("model", "三棵棕榈树和蓝天。"),
        Turn("user", "What does the sign say?"),
    )
    result = await env.client().describe(CREDENTIAL, image=make_image(), conversation=conversation)
    assert result.text.endswith("You asked: What does the sign say?")
    assert env.fake.payloads[0]["prompt"] == [
        {"role": "user", "text": "描述这张图片"},
        {"role": "model", "text": "三棵棕榈树和蓝天。"},
        {"role": "user", "text": "What does the sign say?"},
    ]


@pytest.mark.parametrize(
    ("turns", "message"),
    [
        ((), "empty"),
        ((("user", "describe"), ("model", "a cat")), "end with a user turn"),
        ((("user", "   "),), "empty"),
        ((("model", ""), ("user", "and now?")), "empty"),
        ((("system", "be brief"), ("user", "describe")), "role"),
    ],
)
async def test_bad_conversation_is_refused_before_any_request(
    env: Env, turns: tuple[tuple[str, str], ...], message: str
) -> None:
    quota = HourlyQuota(MemoryQuotaStore(), limit=3)
    conversation = [Turn(cast(Role, role), text) for role, text in turns]
    with pytest.raises(BadRequestError, match=message):
        await env.client(quota=quota).describe(
            CREDENTIAL, image=make_image(), conversation=conversation
        )
    assert env.server.requests == []
    assert await quota.used(APP_ID) == 0


@pytest.mark.parametrize(
    ("fmt", "mime_type"),
    # A GIF is sent as a JPEG of its first frame: vision models take JPEG, PNG and WebP.
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/jpeg")],
)
async def test_mime_type_is_detected_from_the_bytes(env: Env, fmt: str, mime_type: str) -> None:
    # Whatever the file was called (say "photo.jpg"), the bytes decide.
    await env.client().describe(CREDENTIAL, image=make_image(fmt), conversation=ASK)
    assert env.fake.payloads[0]["mimeType"] == mime_type
    assert env.fake.payloads[0]["imageUrl"] == ""


async def test_not_an_image_is_refused_before_any_request(env: Env) -> None:
    quota = HourlyQuota(MemoryQuotaStore())
    with pytest.raises(InvalidImageError):
        await env.client(quota=quota).describe(
            CREDENTIAL, image=b"<html>not an image</html>", conversation=ASK
        )
    assert env.server.requests == []
    assert await quota.used(APP_ID) == 0


async def test_large_image_is_brought_under_the_limit(env: Env) -> None:
    image = make_image("PNG", (160, 160), noise=True)
    assert len(image) > 40_000
    result = await env.client(max_image_bytes=40_000).describe(
        CREDENTIAL, image=image, conversation=ASK
    )
    assert result.image_resized is True
    payload = env.fake.payloads[0]
    sent = base64.b64decode(payload["imageBase64"])
    assert len(sent) <= 40_000
    with Image.open(io.BytesIO(sent)) as im:
        assert payload["mimeType"] == Image.MIME[im.format or ""]


# --- answers and errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "field", "expected"),
    [
        (400, "INVALID_REQUEST", "imageUrl", BadRequestError),
        (400, "FIELD_REQUIRED", None, BadRequestError),
        (403, "BAD_REQUEST", None, BadRequestError),
        (400, "QUOTA_EXCEEDED", None, QuotaExceededError),
        (403, "RATE_LIMIT_EXCEEDED", None, QuotaExceededError),
        (400, "RESOURCE_EXHAUSTED", None, QuotaExceededError),
        (400, "TOO_MANY_REQUESTS", None, QuotaExceededError),
        (400, "APP_ID_QUOTA_EXCEEDED", None, QuotaExceededError),
        (400, "INSUFFICIENT_CREDITS", None, OutOfCreditsError),
        (400, "INSUFFICIENT_QUOTA", None, OutOfCreditsError),
        (403, "CREDIT_LIMIT_REACHED", None, OutOfCreditsError),
        (400, "BALANCE_TOO_LOW", None, OutOfCreditsError),
        (400, "PAYMENT_REQUIRED", None, OutOfCreditsError),
        (400, "UNAUTHENTICATED", None, AuthError),
        (400, "PERMISSION_DENIED", None, AuthError),
        (400, "INSUFFICIENT_PERMISSIONS", None, AuthError),
        (400, "FORBIDDEN", None, AuthError),
        (400, "INVALID_APP_ID", None, AuthError),
        (400, "INVALID_REQUEST", "appId", AuthError),
        (200, "INVALID_REQUEST", "prompt", BadRequestError),
        (200, "QUOTA_EXCEEDED", None, QuotaExceededError),
        (200, "INSUFFICIENT_CREDITS", None, OutOfCreditsError),
        (200, "SOMETHING_NEW", None, UnexpectedResponseError),
        (403, "SOMETHING_NEW", None, AuthError),
        (404, "SOMETHING_NEW", None, NotFoundError),
        (500, "INTERNAL", None, UnavailableError),
    ],
)
async def test_error_objects_become_typed_errors(
    env: Env, status: int, code: str, field: str | None, expected: type[ProviderError]
) -> None:
    env.fake.fail(code, status=status, message=f"refused for {APP_ID}", field=field, reason="WHY")
    with pytest.raises(ProviderError) as caught:
        await env.client().describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert type(caught.value) is expected
    assert caught.value.status == status
    assert caught.value.provider == "describepicture"
    assert APP_ID not in str(caught.value)
    assert "refused for" not in str(caught.value)
    assert len(env.server.requests) == 1  # a paid call refused is never re-sent
    if expected is not UnexpectedResponseError and caught.value.status not in (403, 404, 500):
        assert code in str(caught.value)


async def test_documented_error_example_is_a_bad_request(env: Env) -> None:
    env.fake.respond(DOCUMENTED_ERROR, status=400)
    with pytest.raises(BadRequestError) as caught:
        await env.client().describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert str(caught.value) == (
        "describepicture: INVALID_REQUEST at HTTP 400 (field imageUrl: FIELD_REQUIRED)"
    )
    assert "imageUrl 是必需的" not in str(caught.value)


async def test_unknown_app_id_is_an_auth_error(env: Env) -> None:
    other = DescribePictureCredential("app-unknown-0001")
    with pytest.raises(AuthError) as caught:
        await env.client().describe(other, image=make_image(), conversation=ASK)
    assert "app-unknown-0001" not in str(caught.value)
    assert env.fake.payloads[0]["appId"] == "app-unknown-0001"


async def test_credits_run_out(env: Env) -> None:
    env.fake.credits[APP_ID] = 1
    client = env.client()
    first = await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert first.credits == 0
    with pytest.raises(OutOfCreditsError) as caught:
        await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert caught.value.status == 402


@pytest.mark.parametrize(
    "body",
    [
        {"lastCredits": 5},
        {"answer": 42, "lastCredits": 5},
        {"answer": "  ", "lastCredits": 5},
        ["not", "an", "object"],
        {"error": "a bare string", "answer": "x"},
    ],
)
async def test_answer_outside_the_contract_is_unexpected(env: Env, body: Any) -> None:
    env.fake.respond(body)
    with pytest.raises(UnexpectedResponseError):
        await env.client().describe(CREDENTIAL, image=make_image(), conversation=ASK)


async def test_malformed_json_is_unexpected(env: Env) -> None:
    env.fake.malformed()
    with pytest.raises(UnexpectedResponseError, match="malformed JSON"):
        await env.client().describe(CREDENTIAL, image=make_image(), conversation=ASK)


async def test_credits_are_optional_and_extra_fields_ignored(env: Env) -> None:
    env.fake.respond({"answer": " A cat. ", "lastCredits": "987", "model": "x", "error": None})
    result = await env.client().describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert (result.text, result.credits) == ("A cat.", None)


async def test_timeout_is_outcome_unknown_and_never_resent(env: Env) -> None:
    env.fake.hang()
    quota = HourlyQuota(MemoryQuotaStore())
    with pytest.raises(OutcomeUnknownError):
        await env.client(quota=quota).describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert len(env.server.requests) == 1
    assert await quota.used(APP_ID) == 1


async def test_503_is_retried_then_succeeds(env: Env) -> None:
    env.fake.status(503)
    quota = HourlyQuota(MemoryQuotaStore())
    result = await env.client(quota=quota).describe(
        CREDENTIAL, image=make_image(), conversation=ASK
    )
    assert result.credits == 9
    first, second = env.envelopes()
    assert first == second  # the same sealed request again: it was never accepted
    assert await quota.used(APP_ID) == 1


# --- the hourly quota ------------------------------------------------------------------------


async def test_request_past_the_hourly_limit_is_refused_without_a_request(env: Env) -> None:
    quota = HourlyQuota(MemoryQuotaStore(), limit=3)
    client = env.client(quota=quota)
    for _ in range(3):
        await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    before = time.time()
    with pytest.raises(QuotaExceededError) as caught:
        await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert caught.value.reset_at is not None
    assert before < caught.value.reset_at.timestamp() <= before + 3600
    assert "UTC" in str(caught.value)
    assert APP_ID not in str(caught.value)
    assert len(env.server.requests) == 3
    assert await quota.used(APP_ID) == 3


async def test_the_window_slides() -> None:
    clock = Clock()
    start = clock.now
    quota = HourlyQuota(MemoryQuotaStore(), limit=2, window=3600, clock=clock)
    await quota.acquire(APP_ID)
    clock.now += 10
    await quota.acquire(APP_ID)
    clock.now += 10
    with pytest.raises(QuotaExceededError) as caught:
        await quota.acquire(APP_ID)
    assert caught.value.reset_at == datetime.fromtimestamp(start + 3600, UTC)
    assert await quota.used(APP_ID) == 2

    clock.now = start + 3599.9
    with pytest.raises(QuotaExceededError):
        await quota.acquire(APP_ID)
    clock.now = start + 3600  # the first request leaves the window
    assert await quota.used(APP_ID) == 1
    await quota.acquire(APP_ID)
    with pytest.raises(QuotaExceededError) as caught:
        await quota.acquire(APP_ID)
    assert caught.value.reset_at == datetime.fromtimestamp(start + 3610, UTC)
    clock.now = start + 7199
    assert await quota.used(APP_ID) == 1
    clock.now = start + 7210
    assert await quota.used(APP_ID) == 0


async def test_quotas_are_per_app_id() -> None:
    quota = HourlyQuota(MemoryQuotaStore(), limit=1, clock=Clock())
    await quota.acquire(APP_ID)
    await quota.acquire("another-app-id")
    with pytest.raises(QuotaExceededError):
        await quota.acquire(APP_ID)
    assert (
        await quota.used(APP_ID),
        await quota.used("another-app-id"),
        await quota.used("x"),
    ) == (
        1,
        1,
        0,
    )


async def test_the_window_slides_through_the_client(env: Env) -> None:
    clock = Clock()
    client = env.client(quota=HourlyQuota(MemoryQuotaStore(), limit=1, clock=clock))
    await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    with pytest.raises(QuotaExceededError):
        await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    clock.now += 3600
    await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert len(env.server.requests) == 2


async def test_the_client_exposes_the_quota_it_counts_against(env: Env) -> None:
    quota = HourlyQuota(MemoryQuotaStore(), limit=3)
    client = env.client(quota=quota)
    assert client.quota is quota
    await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert await client.quota.used(APP_ID) == 1
    assert env.client().quota is None


async def test_the_store_never_sees_the_app_id(env: Env) -> None:
    store = KeyRecordingStore()
    await env.client(quota=HourlyQuota(store)).describe(
        CREDENTIAL, image=make_image(), conversation=ASK
    )
    assert store.keys == [hashlib.sha256(APP_ID.encode()).hexdigest()]
    assert APP_ID not in store.keys[0]


async def test_provider_quota_error_gets_the_local_reset_when_the_count_is_full(env: Env) -> None:
    clock = Clock()
    client = env.client(quota=HourlyQuota(MemoryQuotaStore(), limit=2, clock=clock))
    await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    env.fake.fail("QUOTA_EXCEEDED", status=429)
    with pytest.raises(QuotaExceededError) as caught:
        await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert caught.value.reset_at == datetime.fromtimestamp(clock.now + 3600, UTC)
    assert len(env.server.requests) == 2  # a 429 that says "quota used up" is not re-sent


async def test_provider_quota_error_has_no_reset_when_the_local_count_is_not_full(
    env: Env,
) -> None:
    env.fake.fail("QUOTA_EXCEEDED", status=400)
    client = env.client(quota=HourlyQuota(MemoryQuotaStore(), limit=100, clock=Clock()))
    with pytest.raises(QuotaExceededError) as caught:
        await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    assert caught.value.reset_at is None


# --- secrets ---------------------------------------------------------------------------------


async def test_the_app_id_never_reaches_logs_or_errors(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = env.client(quota=HourlyQuota(MemoryQuotaStore(), limit=4))
    await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
    env.fake.fail(
        "INVALID_REQUEST", message=f"appId {APP_ID} is wrong", field="appId", reason=APP_ID
    )
    env.fake.fail("SOMETHING_NEW", status=200, message=APP_ID, reason=APP_ID)
    env.fake.hang()
    raised: list[ProviderError] = []
    for _ in range(4):
        with pytest.raises(ProviderError) as caught:
            await client.describe(CREDENTIAL, image=make_image(), conversation=ASK)
        raised.append(caught.value)
    assert [type(e) for e in raised] == [
        AuthError,
        UnexpectedResponseError,
        OutcomeUnknownError,
        QuotaExceededError,
    ]
    assert caplog.records  # or the check below proves nothing
    messages = [str(e) for e in raised] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if APP_ID.lower() in m.lower()]
    assert APP_ID not in repr(CREDENTIAL)
