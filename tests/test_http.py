"""The shared HTTP layer against a loopback server: retries, timeouts, limits, error mapping."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web

from services.exceptions import (
    AuthError,
    BadRequestError,
    NotFoundError,
    OutcomeUnknownError,
    OutOfCreditsError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    ResponseTooLargeError,
    UnavailableError,
    UnexpectedResponseError,
)
from services.http import HttpClient, HttpResponse, RetryPolicy, describe_url, parse_retry_after
from tests.conftest import FAST_RETRY, SHORT_TIMEOUT, Serve


class Script:
    """Answers each request with the next canned reply: a status, a hang or a cut connection."""

    def __init__(self, *replies: int | str) -> None:
        self.replies = list(replies)
        self.never = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply == "hang":
            await self.never.wait()
        if reply == "cut":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        status = int(reply)
        headers = {"Retry-After": "7"} if status in (429, 503) else {}
        return web.json_response({"ok": status == 200}, status=status, headers=headers)


class Sleeps:
    """Records the delays the client asks for instead of waiting them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_safe_request_retries_5xx_then_succeeds(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    script = Script(500, 502, 200)
    app = web.Application()
    app.router.add_get("/api", script.handle)
    server = await serve(app)
    client = HttpClient(session, provider="demo", base_url=server.url, retry=FAST_RETRY)
    response = await client.request("GET", "/api", safe=True)
    assert response.status == 200
    assert response.json_object() == {"ok": True}
    assert len(server.requests) == 3


async def test_paid_request_is_not_resent_after_500(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    app = web.Application()
    app.router.add_post("/api", Script(500, 200).handle)
    server = await serve(app)
    client = HttpClient(session, provider="demo", base_url=server.url, retry=FAST_RETRY)
    with pytest.raises(UnavailableError):
        await client.request("POST", "/api", safe=False, json_body={"prompt": "x"})
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_paid_request_is_resent_when_never_accepted(
    serve: Serve, session: aiohttp.ClientSession, status: int
) -> None:
    app = web.Application()
    app.router.add_post("/api", Script(status, 200).handle)
    server = await serve(app)
    sleeps = Sleeps()
    client = HttpClient(
        session,
        provider="demo",
        base_url=server.url,
        retry=RetryPolicy(max_retry_after=10),
        sleep=sleeps,
    )
    response = await client.request("POST", "/api", safe=False, json_body={})
    assert response.status == 200
    assert len(server.requests) == 2
    # 429 and 503 carry Retry-After: 7, which is honoured instead of the backoff.
    assert len(sleeps.delays) == 1
    if status in (429, 503):
        assert sleeps.delays == [7.0]


async def test_retry_after_beyond_the_cap_is_left_to_the_caller(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    app = web.Application()
    app.router.add_get("/api", Script(429, 200).handle)
    server = await serve(app)
    sleeps = Sleeps()
    client = HttpClient(
        session,
        provider="demo",
        base_url=server.url,
        retry=RetryPolicy(max_retry_after=5),
        sleep=sleeps,
    )
    with pytest.raises(RateLimitedError) as info:
        await client.request("GET", "/api", safe=True)
    assert info.value.retry_after == 7.0
    assert sleeps.delays == []
    assert len(server.requests) == 1


async def test_timeout_on_a_paid_request_is_outcome_unknown_and_sent_once(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    app = web.Application()
    app.router.add_post("/api", Script("hang").handle)
    server = await serve(app)
    client = HttpClient(
        session, provider="demo", base_url=server.url, retry=FAST_RETRY, timeout=SHORT_TIMEOUT
    )
    with pytest.raises(OutcomeUnknownError):
        await client.request("POST", "/api", safe=False, json_body={})
    assert len(server.requests) == 1


async def test_timeout_on_a_safe_request_is_retried_then_reported(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    app = web.Application()
    app.router.add_get("/api", Script("hang").handle)
    server = await serve(app)
    client = HttpClient(
        session, provider="demo", base_url=server.url, retry=FAST_RETRY, timeout=SHORT_TIMEOUT
    )
    with pytest.raises(ProviderTimeoutError) as info:
        await client.request("GET", "/api", safe=True)
    assert not isinstance(info.value, OutcomeUnknownError)
    assert len(server.requests) == FAST_RETRY.attempts


async def test_connection_cut_after_sending(serve: Serve, session: aiohttp.ClientSession) -> None:
    app = web.Application()
    app.router.add_route("*", "/api", Script("cut", 200).handle)
    server = await serve(app)
    client = HttpClient(session, provider="demo", base_url=server.url, retry=FAST_RETRY)
    with pytest.raises(OutcomeUnknownError):
        await client.request("POST", "/api", safe=False, json_body={})
    assert len(server.requests) == 1
    # The same cut on a poll is simply retried.
    script = Script("cut", 200)
    app2 = web.Application()
    app2.router.add_get("/api", script.handle)
    server2 = await serve(app2)
    poller = HttpClient(session, provider="demo", base_url=server2.url, retry=FAST_RETRY)
    assert (await poller.request("GET", "/api", safe=True)).status == 200
    assert len(server2.requests) == 2


async def test_connection_refused_is_retried_even_for_paid_requests(
    session: aiohttp.ClientSession,
) -> None:
    # Bind a port, then free it: nothing listens there.
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    sleeps = Sleeps()
    client = HttpClient(
        session,
        provider="demo",
        base_url=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=3),
        sleep=sleeps,
    )
    with pytest.raises(UnavailableError) as info:
        await client.request("POST", "/api", safe=False, json_body={})
    assert not isinstance(info.value, OutcomeUnknownError)
    assert len(sleeps.delays) == 2
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorError)


async def test_no_connection_in_time_is_retried_even_for_paid_requests(serve: Serve) -> None:
    # The one pooled connection is busy with a hung request: the next never gets to send.
    arrived, never = asyncio.Event(), asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        arrived.set()
        await never.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/api", hang)
    server = await serve(app)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as one_connection:
        hung = asyncio.create_task(
            HttpClient(one_connection, provider="demo", base_url=server.url).request(
                "POST", "/api", safe=False, json_body={}
            )
        )
        await asyncio.wait_for(arrived.wait(), 10)
        sleeps = Sleeps()
        client = HttpClient(
            one_connection,
            provider="demo",
            base_url=server.url,
            timeout=aiohttp.ClientTimeout(total=None, connect=0.05),
            retry=RetryPolicy(attempts=2),
            sleep=sleeps,
        )
        with pytest.raises(UnavailableError) as info:
            await client.request("POST", "/api", safe=False, json_body={})
        hung.cancel()
        never.set()
    assert not isinstance(info.value, OutcomeUnknownError)  # nothing was sent: no charge
    assert len(sleeps.delays) == 1
    assert isinstance(info.value.__cause__, aiohttp.ConnectionTimeoutError)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthError),
        (402, OutOfCreditsError),
        (403, AuthError),
        (404, NotFoundError),
        (422, BadRequestError),
        (429, RateLimitedError),
        (500, UnavailableError),
        (418, UnexpectedResponseError),
    ],
)
async def test_status_maps_to_typed_error(
    serve: Serve, session: aiohttp.ClientSession, status: int, error: type[ProviderError]
) -> None:
    app = web.Application()
    app.router.add_get("/api", Script(status).handle)
    server = await serve(app)
    client = HttpClient(
        session, provider="demo", base_url=server.url, retry=RetryPolicy(attempts=1)
    )
    with pytest.raises(error) as info:
        await client.request("GET", "/api", safe=True)
    assert info.value.status == status
    assert info.value.provider == "demo"


async def test_error_mapper_reads_the_provider_body(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"error": "no_balance"}, status=400)

    app = web.Application()
    app.router.add_get("/api", handler)
    server = await serve(app)

    def mapper(response: HttpResponse) -> ProviderError | None:
        if response.json_object().get("error") == "no_balance":
            return OutOfCreditsError("no balance", provider="demo", status=response.status)
        return None

    client = HttpClient(session, provider="demo", base_url=server.url, error_mapper=mapper)
    with pytest.raises(OutOfCreditsError):
        await client.request("GET", "/api", safe=True)


async def test_body_over_the_limit_is_refused(serve: Serve, session: aiohttp.ClientSession) -> None:
    big = b"x" * 300_000

    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=big)

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to check up front
        await response.prepare(request)
        for _ in range(30):
            await response.write(b"y" * 10_000)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/sized", sized)
    app.router.add_get("/streamed", streamed)
    server = await serve(app)
    client = HttpClient(session, provider="demo", base_url=server.url, retry=FAST_RETRY)
    for path in ("/sized", "/streamed"):
        with pytest.raises(ResponseTooLargeError) as info:
            await client.download(server.url + path, max_bytes=100_000)
        assert info.value.limit == 100_000
    assert len(await client.download(server.url + "/sized", max_bytes=300_000)) == 300_000


async def test_malformed_json_is_an_unexpected_response(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="<html>oops</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/api", handler)
    server = await serve(app)
    client = HttpClient(session, provider="demo", base_url=server.url)
    response = await client.request("GET", "/api", safe=True)
    with pytest.raises(UnexpectedResponseError):
        response.json()
    with pytest.raises(UnexpectedResponseError):
        HttpResponse("demo", 200, {}, b"[1, 2]", "GET /api").json_object()


async def test_no_cookie_is_kept_between_requests(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    async def handler(request: web.Request) -> web.Response:
        response = web.json_response({})
        response.set_cookie("session_token", "user-a-token")
        return response

    app = web.Application()
    app.router.add_get("/api", handler)
    server = await serve(app)
    client = HttpClient(session, provider="demo", base_url=server.url)
    await client.request("GET", "/api", safe=True)
    await client.request("GET", "/api", safe=True, cookies={"other": "1"})
    assert server.requests[1].cookies == {"other": "1"}


async def test_logs_hold_no_query_or_header_values(
    serve: Serve, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    app = web.Application()
    app.router.add_get("/api", Script(500, 200).handle)
    server = await serve(app)
    client = HttpClient(
        session, provider="demo", base_url=server.url, retry=FAST_RETRY, sleep=Sleeps()
    )
    with caplog.at_level(logging.DEBUG):
        await client.request(
            "GET",
            "/api",
            safe=True,
            params={"token": "SECRET-QUERY"},
            headers={"Authorization": "SECRET-HEADER"},
        )
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("services"))
    assert "GET /api" in text
    assert "SECRET" not in text


def test_backoff_grows_and_stays_within_bounds() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=8)
    rng = random.Random(1)
    for attempt, ceiling in enumerate([1, 2, 4, 8, 8]):
        delays = [policy.delay(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 6) for d in delays}) > 1  # jittered


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    in_90s = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(in_90s, now=now.timestamp()) == pytest.approx(90)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_describe_url_drops_query_and_userinfo() -> None:
    url = "https://user:pw@cdn.example:8443/exp48h/abc.webp?X-Amz-Signature=s3cret"
    assert describe_url(url) == "https://cdn.example:8443/exp48h/abc.webp"


async def test_observer_hears_every_attempt(serve: Serve, session: aiohttp.ClientSession) -> None:
    app = web.Application()
    app.router.add_get("/api", Script(502, "hang", 200).handle)
    server = await serve(app)
    heard: list[tuple[str, str]] = []

    def observer(*, provider: str, outcome: str, seconds: float) -> None:
        assert seconds >= 0
        heard.append((provider, outcome))

    client = HttpClient(
        session, provider="demo", base_url=server.url, retry=FAST_RETRY, timeout=SHORT_TIMEOUT,
        observer=observer,
    )  # fmt: skip
    await client.request("GET", "/api", safe=True)
    assert heard == [("demo", "5xx"), ("demo", "timeout"), ("demo", "2xx")]


async def test_serialized_json_is_sent_as_is_and_again_on_a_retry(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    seen: list[tuple[str, bytes]] = []
    script = Script(502, 200)

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append((request.content_type, await request.read()))
        return await script.handle(request)

    app = web.Application()
    app.router.add_post("/api", handler)
    server = await serve(app)
    client = HttpClient(session, provider="demo", base_url=server.url, retry=FAST_RETRY)
    body = b'{"iv": "AAAA", "encryptedData": "BBBB"}'
    response = await client.request("POST", "/api", safe=False, json_body=body)
    assert response.status == 200
    assert seen == [("application/json", body), ("application/json", body)]
