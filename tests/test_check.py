"""`python -m bot check [--providers]`: one line per check, exit 0/1/2, never a secret."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.__main__ import parse_arguments
from bot.check import check_database, check_provider
from bot.config import Settings, load_settings
from bot.providers import operator_credentials
from bot.providers.gptunnel import PROBE_TASK_ID
from bot.storage.sqlite.migrations import MIGRATIONS
from playground.providers import ailuna, gptunnel
from playground.providers.codexaeternum import FakeCodexAeternum
from playground.telegram import FakeBotApi
from tests.conftest import Serve
from tests.harness import TOKEN

OTHER_TOKEN = "4242:AAE_another-token-that-is-long-enough-99"
WRONG_GPTUNNEL_KEY = "shds-WRONGgptunnelKEY9876543210fedcba"
EMAIL = "operator@example.com"
SECRET = "codex-operator-secret-0123456789"
APP_ID = "dp-operator-app-id-0123456789"
ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """A fresh machine's environment: no bot settings, the project importable, UTF-8 output."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "SYSTEMROOT")}
    return {**keep, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", **extra}


async def run_check(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, list[str], str]:
    """Exit status, stdout lines and stderr of `python -m bot check <args>`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode().splitlines(), stderr.decode()


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_good_settings_pass_and_touch_no_provider(tmp_path: Path, serve: Serve) -> None:
    api = FakeBotApi(TOKEN)
    telegram = await serve(api.app())
    provider = await serve(gptunnel.GPTunnelFake().app())
    data = tmp_path / "data"
    env = clean_env(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=telegram.url,
        DATA_DIR=str(data),
        GPTUNNEL_URL=provider.url,
        GPTUNNEL_API_KEY=gptunnel.API_KEY,
    )
    code, lines, stderr = await run_check(tmp_path, env)
    assert code == 0, (lines, stderr)
    assert lines == [
        "✓ settings: valid",
        f"✓ Telegram: @iris_test_bot (id 4242) via {telegram.url}; "
        "inline mode off (@BotFather /setinline to turn it on)",
        f"✓ database: {data / 'iris.db'}, schema version {len(MIGRATIONS)}, writable; "
        f"key: {data / 'secret.key'}",
        "– operator credentials: GPTUNNEL_API_KEY (not set: "
        "CODEXAETERNUM_EMAIL/CODEXAETERNUM_SECRET, AILUNA_API_KEY, DESCRIBEPICTURE_APP_ID)",
    ]
    assert [call.method for call in api.calls] == ["getMe"]
    assert provider.requests == []  # without --providers no provider is called
    with sqlite3.connect(data / "iris.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("SELECT COUNT(*) FROM quota_hits").fetchone()[0] == 0  # rolled back
    output = "\n".join(lines) + stderr
    assert TOKEN not in output
    assert gptunnel.API_KEY not in output


async def test_malformed_token_exits_2_with_one_line(tmp_path: Path) -> None:
    code, lines, stderr = await run_check(tmp_path, clean_env(BOT_TOKEN="oops"))
    assert code == 2
    assert lines == []
    assert stderr.strip().splitlines() == [
        "iris: BOT_TOKEN is malformed; "
        "expected the token @BotFather gave you, like 123456789:AAE..."
    ]
    assert not (tmp_path / "data").exists()


async def test_bot_api_refusing_the_token_fails_the_telegram_line(
    tmp_path: Path, serve: Serve
) -> None:
    telegram = await serve(FakeBotApi(OTHER_TOKEN).app())
    env = clean_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=telegram.url, DATA_DIR=str(tmp_path / "d"))
    code, lines, stderr = await run_check(tmp_path, env)
    assert code == 1
    assert f"✗ Telegram: {telegram.url} rejected BOT_TOKEN (401 Unauthorized)" in lines
    assert [line[0] for line in lines] == ["✓", "✗", "✓", "–"]
    assert TOKEN not in "\n".join(lines) + stderr
    assert "Traceback" not in stderr


async def test_providers_one_free_call_each_and_a_line_per_provider(
    tmp_path: Path, serve: Serve
) -> None:
    telegram = await serve(FakeBotApi(TOKEN).app())
    gpt = await serve(gptunnel.GPTunnelFake().app())  # knows only gptunnel.API_KEY
    luna_state = ailuna.AiLunaState()
    luna_state.add(ailuna.KEY_ALICE, "a fox")
    luna_state.add(ailuna.KEY_ALICE, "a lighthouse")
    luna = await serve(ailuna.make_app(luna_state))
    codex_fake = FakeCodexAeternum(users={EMAIL: SECRET})
    codex = await serve(codex_fake.app())
    describe = await serve(web.Application())
    env = clean_env(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=telegram.url,
        DATA_DIR=str(tmp_path / "data"),
        GPTUNNEL_URL=gpt.url,
        GPTUNNEL_API_KEY=WRONG_GPTUNNEL_KEY,
        AILUNA_URL=luna.url,
        AILUNA_API_KEY=ailuna.KEY_ALICE,
        CODEXAETERNUM_URL=codex.url,
        CODEXAETERNUM_EMAIL=EMAIL,
        CODEXAETERNUM_SECRET=SECRET,
        DESCRIBEPICTURE_URL=describe.url,
        DESCRIBEPICTURE_APP_ID=APP_ID,
    )
    code, lines, stderr = await run_check(tmp_path, env, "--providers")
    assert code == 1, (lines, stderr)
    assert lines[3] == (
        "– operator credentials: GPTUNNEL_API_KEY, CODEXAETERNUM_EMAIL/CODEXAETERNUM_SECRET, "
        "AILUNA_API_KEY, DESCRIBEPICTURE_APP_ID"
    )
    assert lines[4:] == [
        "✗ GPTunnel: key rejected (HTTP 401)",
        "✓ CodexAeternum: email and secret accepted (token exchange)",
        "✓ AiLuna: key accepted (2 images in the gallery)",
        "– DescribePicture: not checked: no free call (every request costs US$0.01)",
    ]
    [result] = gpt.requests
    assert (result.path, result.json()) == ("/v1/media/result", {"task_id": PROBE_TASK_ID})
    [listing] = luna.requests
    assert (listing.path, listing.query) == ("/api/v1/images", {"per_page": "10"})
    assert [r.path for r in codex.requests] == ["/login/tokenexchange/"]
    assert describe.requests == []  # every DescribePicture request costs money
    output = "\n".join(lines) + stderr
    for secret in (TOKEN, WRONG_GPTUNNEL_KEY, ailuna.KEY_ALICE, SECRET, APP_ID, *codex_fake.issued):
        assert secret not in output
    assert "Traceback" not in stderr


def settings_for(tmp_path: Path, **values: str) -> Settings:
    """Settings from these values alone (no .env)."""
    values.setdefault("data_dir", str(tmp_path))
    return load_settings(_env_file=None, bot_token=TOKEN, **values)


async def probe(name: str, settings: Settings, *, timeout: float = 5) -> str:
    """The line `check --providers` prints for provider `name`."""
    credential = operator_credentials(settings).get(name)
    async with aiohttp.ClientSession() as http:
        outcome = await check_provider(name, settings, http, credential, timeout=timeout)
    return outcome.line()


async def test_gptunnel_answering_not_found_means_the_key_was_accepted(
    tmp_path: Path, serve: Serve
) -> None:
    server = await serve(gptunnel.GPTunnelFake().app())
    settings = settings_for(tmp_path, gptunnel_url=server.url, gptunnel_api_key=gptunnel.API_KEY)
    line = await probe("gptunnel", settings)
    assert line == "✓ GPTunnel: key accepted (the lookup of a made-up task answered HTTP 404)"


async def test_gptunnel_bad_request_not_about_the_key_means_accepted(
    tmp_path: Path, serve: Serve
) -> None:
    fake = gptunnel.GPTunnelFake()
    fake.result_outcomes.append(gptunnel.refuse(400, "task does not belong to this account"))
    server = await serve(fake.app())
    settings = settings_for(tmp_path, gptunnel_url=server.url, gptunnel_api_key=gptunnel.API_KEY)
    line = await probe("gptunnel", settings)
    assert line == "✓ GPTunnel: key accepted (the lookup of a made-up task answered HTTP 400)"


async def test_gptunnel_complaint_about_the_key_means_rejected(
    tmp_path: Path, serve: Serve
) -> None:
    fake = gptunnel.GPTunnelFake()
    fake.result_outcomes.append(gptunnel.refuse(404, "API key not found"))
    server = await serve(fake.app())
    settings = settings_for(tmp_path, gptunnel_url=server.url, gptunnel_api_key=gptunnel.API_KEY)
    assert await probe("gptunnel", settings) == "✗ GPTunnel: key rejected (HTTP 404)"


async def test_codexaeternum_rejected_secret(tmp_path: Path, serve: Serve) -> None:
    server = await serve(FakeCodexAeternum(users={EMAIL: "the-real-secret"}).app())
    settings = settings_for(
        tmp_path,
        codexaeternum_url=server.url,
        codexaeternum_email=EMAIL,
        codexaeternum_secret=SECRET,
    )
    line = await probe("codexaeternum", settings)
    assert line == "✗ CodexAeternum: email or secret token rejected (HTTP 401)"


async def test_ailuna_plan_limit_is_out_of_credits(tmp_path: Path, serve: Serve) -> None:
    state = ailuna.AiLunaState()
    state.fail("list", ailuna.plan_limit())
    server = await serve(ailuna.make_app(state))
    settings = settings_for(tmp_path, ailuna_url=server.url, ailuna_api_key=ailuna.KEY_ALICE)
    line = await probe("ailuna", settings)
    assert line == "✗ AiLuna: key accepted, but out of credits (HTTP 403)"


async def test_unreachable_and_silent_providers_fail_within_the_timeout(
    tmp_path: Path, serve: Serve
) -> None:
    url = closed_port_url()
    settings = settings_for(tmp_path, ailuna_url=url, ailuna_api_key=ailuna.KEY_ALICE)
    assert await probe("ailuna", settings) == f"✗ AiLuna: cannot reach {url}, or it is down"
    fake = gptunnel.GPTunnelFake()
    fake.result_outcomes.append(gptunnel.hang())
    server = await serve(fake.app())
    settings = settings_for(tmp_path, gptunnel_url=server.url, gptunnel_api_key=gptunnel.API_KEY)
    line = await asyncio.wait_for(probe("gptunnel", settings, timeout=0.3), 5)
    assert line == f"✗ GPTunnel: no answer from {server.url} in 0.3 s"


async def test_provider_without_an_operator_credential_is_not_called(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, gptunnel_url=closed_port_url())
    line = await probe("gptunnel", settings)
    assert line == "– GPTunnel: not checked: GPTUNNEL_API_KEY is not set"


async def test_database_failures_are_one_line_each(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    outcome = await check_database(settings_for(tmp_path, data_dir=str(not_a_dir)))
    assert outcome.line() == f"✗ database: cannot open {not_a_dir / 'iris.db'}: File exists"
    newer = tmp_path / "newer"
    newer.mkdir()
    with sqlite3.connect(newer / "iris.db") as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    outcome = await check_database(settings_for(tmp_path, data_dir=str(newer)))
    assert outcome.status == "fail"
    assert f"schema version {len(MIGRATIONS) + 1}" in outcome.detail


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_arguments([]).command is None
    assert parse_arguments(["check"]).providers is False
    assert parse_arguments(["check", "--providers"]).providers is True
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(["bogus"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("usage: python -m bot")
