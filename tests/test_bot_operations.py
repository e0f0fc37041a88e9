"""Operations: webhook mode with its secret, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import create_application
from bot.webhook import serve_webhook, webhook_secret
from playground.telegram import Chat, FakeBotApi
from tests.conftest import Serve
from tests.harness import ALICE, FAST, GPTUNNEL_KEY, TOKEN, iris_running, settings_for

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def help_update(update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10 + update_id,
            "date": int(time.time()),
            "chat": {"id": ALICE.id, "type": "private", "first_name": "Alice"},
            "from": {"id": ALICE.id, "is_bot": False, "first_name": "Alice"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


async def test_webhook_requires_its_secret(serve: Serve, tmp_path: Path) -> None:
    api = FakeBotApi(TOKEN)
    telegram = await serve(api.app())
    api.send_text(ALICE, Chat.private(ALICE), "hi")
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = settings_for(
        tmp_path,
        dict.fromkeys(
            ("telegram", "gptunnel", "codexaeternum", "describepicture", "ailuna"), telegram.url
        ),
        webhook_url=url,
        webhook_port=port,
        webhook_host="127.0.0.1",
    )
    app = await create_application(settings, timing=FAST)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_webhook(app, settings, stop=stop))
    registered = await api.wait_for("setWebhook")
    secret = webhook_secret(settings)
    assert registered.params["url"] == url
    assert registered.params["secret_token"] == secret
    assert secret not in TOKEN
    async with aiohttp.ClientSession() as client:
        async with client.post(url, json=help_update(1)) as response:
            assert response.status == 401
        async with client.post(
            url, json=help_update(2), headers={SECRET_HEADER: "wrong"}
        ) as response:
            assert response.status == 401
        assert not api.called("sendMessage")
        async with client.post(
            url, json=help_update(3), headers={SECRET_HEADER: secret}
        ) as response:
            assert response.status == 200
    reply = await api.wait_for("sendMessage")
    assert "Hi! I'm Iris" in reply.params["text"]
    stop.set()
    await asyncio.wait_for(serving, 15)
    assert not api.called("getUpdates")


async def test_healthz_and_metrics(serve: Serve, tmp_path: Path) -> None:
    port = free_port()
    async with iris_running(
        serve, tmp_path, metrics_port=port, gptunnel_api_key=GPTUNNEL_KEY
    ) as iris:
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a lantern")
        await iris.api.wait_for("sendPhoto", after=mark)
        await iris.settled()
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as client:
            async with client.get(base + "/healthz") as response:
                assert response.status == 200
                health = await response.json()
            assert health == {
                "status": "ok",
                "checks": {"database": "ok", "telegram": "ok", "job_runner": "ok"},
            }
            async with client.get(base + "/metrics") as response:
                assert response.status == 200
                metrics = await response.text()
            assert 'iris_jobs{kind="generate",provider="gptunnel",state="done"} 1.0' in metrics
            assert (
                'iris_provider_request_seconds_count{outcome="2xx",provider="gptunnel"}' in metrics
            )
            assert "iris_active_users 1.0" in metrics
            assert "iris_queue_depth 0.0" in metrics
            assert "iris_uploads_waiting 0.0" in metrics
            await iris.app.runner.stop()  # a runner that stopped makes the bot unhealthy
            async with client.get(base + "/healthz") as response:
                assert response.status == 503
                assert (await response.json())["checks"]["job_runner"] == "stopped"


@pytest.mark.parametrize("given", ["my-own_secret", None])
def test_webhook_secret_is_set_or_derived(tmp_path: Path, given: str | None) -> None:
    urls = dict.fromkeys(
        ("telegram", "gptunnel", "codexaeternum", "describepicture", "ailuna"), "http://x"
    )
    extra = {"webhook_secret": given} if given else {}
    settings = settings_for(tmp_path, urls, **extra)
    secret = webhook_secret(settings)
    if given:
        assert secret == given
    else:
        assert len(secret) == 64
        assert secret == webhook_secret(settings_for(tmp_path, urls))  # stable across starts
