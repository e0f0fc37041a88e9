"""Security through the real bot: secrets at rest, in logs, chats and URLs; users kept apart; SQL
with parameters only; limits under a burst."""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.crypto import KEY_FILENAME
from bot.storage.jobs import JobKind, JobState, NewJob
from handlers.gallery.callbacks import GalleryAction, GalleryButton, GalleryView
from playground.providers.ailuna import KEY_ALICE, KEY_BOB
from playground.providers.server import RecordedRequest
from playground.telegram import BOT, Chat, Message, User
from services.base import mask
from tests.checks import assert_absent, db_bytes, photo_bytes, text_of
from tests.conftest import Serve
from tests.harness import (
    ALICE,
    BOB,
    CODEX_EMAIL,
    CODEX_SECRET,
    DESCRIBE_APP_ID,
    GPTUNNEL_KEY,
    GROUP,
    ROOT,
    TOKEN,
    Iris,
    answer_of,
    iris_running,
    status_deleted,
)

PROVIDERS = ("gptunnel", "codexaeternum", "describepicture", "ailuna")
STALE = "This button is no longer valid."
NOT_YOURS = "Only the person who started this job can use this button."
ALICE_KEYS = {
    "gptunnel": (GPTUNNEL_KEY,),
    "describepicture": (DESCRIBE_APP_ID,),
    "codexaeternum": (CODEX_EMAIL, CODEX_SECRET),
    "ailuna": (KEY_ALICE,),
}
FAKE_SERVER_LOGGERS = ("aiohttp.access", "aiohttp.server", "aiohttp.web", "tests.")
"""Loggers of the loopback fakes' servers, not of Iris (the Bot API's paths hold the token)."""


def iris_log(caplog: pytest.LogCaptureFixture) -> str:
    """Every line Iris logged (its own code, aiogram and aiohttp's client), tracebacks included."""
    lines = []
    for record in caplog.records:
        if record.name.startswith(FAKE_SERVER_LOGGERS):
            continue
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


def url_of(request: RecordedRequest) -> str:
    """The path and query a provider was asked for."""
    return request.path + "?" + "&".join(f"{k}={v}" for k, v in request.query.items())


def everything_of(request: RecordedRequest) -> str:
    """Every part of a request as text: URL, headers, cookies and body."""
    body = request.body.decode("utf-8", "replace")
    return " ".join(
        [url_of(request), json.dumps(request.headers), json.dumps(request.cookies), body]
    )


async def answer_to(iris: Iris, user: User, text: str, *, chat: Chat | None = None) -> str:
    """The text of the bot's first message in the chat after the user sends a text."""
    mark = iris.api.mark()
    sent = await iris.say(user, text, chat=chat)
    return text_of(await iris.reply(sent.chat_id, after=mark))


async def delivered(iris: Iris, user: User, text: str, *, chat: Chat | None = None) -> Message:
    """The user asks for an image; its result message, once the job is done."""
    mark = iris.api.mark()
    chat_id = (chat or Chat.private(user)).id
    await iris.say(user, text, chat=chat)
    await iris.api.wait_for(
        "sendPhoto", where=lambda c: int(c.params["chat_id"]) == chat_id, after=mark
    )
    await status_deleted(iris, chat_id, after=mark)
    return next(m for m in reversed(iris.api.bot_messages(chat_id)) if m.photo)


# --- secrets -----------------------------------------------------------------------------------


async def test_secrets_are_encrypted_at_rest_and_never_in_logs_chats_or_urls(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with iris_running(serve, tmp_path) as iris:
        iris.codex.image = photo_bytes(fmt="PNG")
        iris.api.add_member(GROUP, BOT, "administrator")
        for provider, parts in ALICE_KEYS.items():
            await iris.set_key(ALICE, provider, *parts)
        mark = iris.api.mark()
        await iris.say(ALICE, f"/setkey gptunnel {GPTUNNEL_KEY}", chat=GROUP)
        await iris.reply(GROUP.id, after=mark)
        for prompt in ("an owl --provider codexaeternum", "a fox", "a cat --provider ailuna"):
            await delivered(iris, ALICE, f"/imagine {prompt}")
        for caption in (None, "what is it? --provider codexaeternum"):
            mark = iris.api.mark()
            iris.api.send_photo(ALICE, Chat.private(ALICE), photo_bytes(), caption=caption)
            await status_deleted(iris, ALICE.id, after=mark)
        for command in ("/keys", "/balance", "/tasks", "/help"):
            await answer_to(iris, ALICE, command)
        assert len(iris.codex.issued) >= 1  # a session token exists, and is stored
        rows = await iris.app.storage.db.fetchall("SELECT token FROM session_tokens")
        assert len(rows) == 1
        assert [job.state for job in await iris.app.storage.jobs.active_for_user(ALICE.id)] == []

        key_file = (iris.settings.data_dir / KEY_FILENAME).read_text().strip()
        # The CodexAeternum email is an account name, shown masked-in-clear by /keys: no secret.
        keys = [parts[-1] for parts in ALICE_KEYS.values()]
        secrets = [*keys, *iris.codex.issued, TOKEN, key_file]
        assert_absent(secrets, db_bytes(iris.settings.data_dir), "the open database")
    assert_absent(secrets, db_bytes(iris.settings.data_dir), "the closed database")
    log = iris_log(caplog)
    assert f"user {ALICE.id} stored a codexaeternum key" in log  # the log was captured
    assert_absent(secrets, log, "the log")
    for call in iris.api.calls:
        assert_absent(secrets, json.dumps(call.params, ensure_ascii=False), call.method)
    for name in PROVIDERS:
        requests = iris.servers[name].requests
        assert requests, f"{name} was never asked: the scenario missed it"
        others = [parts[-1] for provider, parts in ALICE_KEYS.items() if provider != name]
        for request in requests:
            assert_absent(secrets, url_of(request), f"a URL sent to {name}")
            # Each provider sees only its own credential; the bot token reaches none of them.
            everything = everything_of(request)
            assert_absent([TOKEN, key_file, *others], everything, f"a request to {name}")
    for payload in iris.describepicture.payloads:  # the decrypted envelopes
        assert_absent([TOKEN], json.dumps(payload), "a DescribePicture payload")
        assert payload["imageUrl"] == ""
    assert iris.gptunnel.violations == []


async def test_the_message_carrying_a_key_is_deleted_in_private_and_in_groups(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        iris.api.add_member(GROUP, BOT, "administrator")
        for chat in (Chat.private(ALICE), GROUP):
            for provider, parts in ALICE_KEYS.items():
                mark = iris.api.mark()
                sent = await iris.say(ALICE, f"/setkey {provider} {' '.join(parts)}", chat=chat)
                reply = text_of(await iris.reply(chat.id, after=mark))
                assert iris.api.message(chat.id, sent.message_id).deleted, (chat.type, provider)
                assert "could not delete" not in reply
                assert_absent(parts[-1:], reply, "the reply")
            stored = await iris.app.storage.credentials.masked(ALICE.id)
            assert set(stored) == set(ALICE_KEYS)  # all from the private chat, none from the group


# --- users kept apart --------------------------------------------------------------------------


async def test_another_user_never_sees_uses_or_deletes_someones_keys_images_or_jobs(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        fox = iris.ailuna.add(KEY_ALICE, "Alice's secret fox")
        await iris.say(ALICE, "/imagine a storm")
        await iris.api.wait_until(lambda: any(t.polls for t in iris.gptunnel.tasks.values()))
        ailuna_before = len(iris.servers["ailuna"].requests)

        keys = await answer_to(iris, BOB, "/keys")
        assert mask(GPTUNNEL_KEY) not in keys
        assert mask(KEY_ALICE) not in keys
        assert await answer_to(iris, BOB, "/delkey gptunnel") == "You had no GPTunnel key."
        bobs_chat = iris.api.bot_messages(BOB.id)[-1]
        assert await answer_of(iris, iris.api.press_data(BOB, bobs_chat, "key:del:ailuna")) == (
            "You had no AiLuna key."
        )
        assert "no running jobs" in await answer_to(iris, BOB, "/tasks")
        cancel = iris.api.press_data(BOB, bobs_chat, "job:cancel:1:")
        assert await answer_of(iris, cancel) == STALE
        assert "no AiLuna key" in await answer_to(iris, BOB, "/gallery")
        assert "no key" in await answer_to(iris, BOB, "/imagine with alice's key?")
        assert len(iris.servers["ailuna"].requests) == ailuna_before

        await iris.set_key(BOB, "ailuna", KEY_BOB)
        listing = await answer_to(iris, BOB, "/gallery")
        assert "Alice's secret fox" not in listing
        mark = iris.api.mark()
        forged = GalleryAction.bound(
            GalleryButton.OPEN, image_id=str(fox.id), starred=False, view=GalleryView()
        )
        opened = iris.api.press_data(BOB, bobs_chat, forged.pack())
        assert await answer_of(iris, opened) == "AiLuna no longer has this result."
        asked = iris.servers["ailuna"].requests[ailuna_before:]
        assert {r.headers["Authorization"] for r in asked} == {f"Bearer {KEY_BOB}"}
        assert not any(c.method == "sendPhoto" for c in iris.api.calls[mark:])

        assert await iris.app.storage.credentials.get(ALICE.id, "gptunnel") == (GPTUNNEL_KEY,)
        assert await iris.app.storage.credentials.get(ALICE.id, "ailuna") == (KEY_ALICE,)
        assert (fox.name, fox.favorite, fox.id in iris.ailuna.images) == (
            "Alice's secret fox",
            False,
            True,
        )
        assert (await iris.job(1)).state == JobState.POLLING
        assert len(iris.gptunnel.tasks) == 1
        to_bob = " ".join(
            text_of(c) for c in iris.api.calls if c.params.get("chat_id") in (BOB.id, str(BOB.id))
        )
        assert "a storm" not in to_bob


async def test_in_a_group_only_the_owner_may_press_a_jobs_buttons(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        result = await delivered(iris, ALICE, "/imagine a castle --ar 16:9", chat=GROUP)
        ailuna = await delivered(iris, ALICE, "/imagine a moat --provider ailuna", chat=GROUP)
        interrupted = await iris.app.storage.jobs.create(
            NewJob(
                kind=JobKind.GENERATE,
                provider="gptunnel",
                user_id=ALICE.id,
                chat_id=GROUP.id,
                chat_type=GROUP.type,
                prompt="a drawbridge",
                credential_source="operator",
                language="en",
            ),
            now=time.time(),
        )
        for state in (JobState.SUBMITTING, JobState.INTERRUPTED):
            assert await iris.app.storage.jobs.transition(interrupted.id, to=state, now=time.time())
        iris.gptunnel.final_status = "processing"
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a siege", chat=GROUP)
        await iris.api.wait_until(lambda: [t.polls > 0 for t in iris.gptunnel.tasks.values()] == [
            True, True])  # fmt: skip
        running = await iris.job(4)
        status = iris.api.message(GROUP.id, running.status_message_id or 0)

        async def states() -> list[tuple[str, str | None, str | None]]:
            jobs = [await iris.job(n) for n in range(1, 5)]
            return [(job.state, job.task_id, job.error) for job in jobs]

        before = await states()
        star = next(b.callback_data for b in ailuna.buttons if "favorites" in b.text)
        presses = [
            (status, "job:cancel:4:"),
            (result, "job:again:1:"),
            (result, "job:ratio:1:1x1"),
            (ailuna, star),
            (result, f"job:retry:{interrupted.id}:"),
        ]
        others = [n for n in PROVIDERS if n != "gptunnel"]  # GPTunnel is being polled
        requests = [len(iris.servers[name].requests) for name in others]
        for message, data in presses:
            assert data is not None
            assert await answer_of(iris, iris.api.press_data(BOB, message, data)) == NOT_YOURS
        assert await states() == before
        assert await iris.app.storage.jobs.get(5) is None
        assert [image.favorite for image in iris.ailuna.images.values()] == [False]
        assert [len(iris.servers[name].requests) for name in others] == requests
        creates = iris.servers["gptunnel"].calls("POST", "/v1/media/create")
        assert len(creates) == 2  # the castle and the siege, nothing more
        # 📎 is for anyone in the chat, by design; the owner's own press still works.
        original = next(b.callback_data for b in result.buttons if b.text == "📎 Original file")
        assert original is not None
        mark = iris.api.mark()
        assert await answer_of(iris, iris.api.press(BOB, result, original)) is None
        await iris.api.wait_for("sendDocument", after=mark)
        assert await answer_of(iris, iris.api.press_data(ALICE, status, "job:cancel:4:")) == (
            "Cancelled."
        )


# --- SQL only with parameters ------------------------------------------------------------------

SQL_METHODS = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "fetchone",
        "fetchall",
        "execute_fetchall",
        "insert",
        "fetch",
        "fetchrow",
        "fetchval",
    }
)
PLACEHOLDER_HELPERS = frozenset({"placeholders"})
"""Functions that return only "?, ?, ..." and so may build SQL."""
NOT_LITERAL = {
    # The query layer passes on the SQL its callers wrote; each of those calls is checked here.
    ("sqlite/db.py", "Transaction.execute", "sql"),
    ("sqlite/db.py", "Transaction.insert", "sql"),
    ("sqlite/db.py", "Transaction.fetchone", "sql"),
    ("sqlite/db.py", "Transaction.fetchall", "sql"),
    ("sqlite/db.py", "SqliteDatabase.execute", "sql"),
    ("sqlite/db.py", "SqliteDatabase.insert", "sql"),
    ("sqlite/db.py", "SqliteDatabase.fetchone", "sql"),
    ("sqlite/db.py", "SqliteDatabase.fetchall", "sql"),
    # The same on PostgreSQL, `?` placeholders numbered ($1, $2, …) on the way.
    ("postgres/db.py", "_Statements.execute", "numbered(sql)"),
    ("postgres/db.py", "_Statements.insert", "numbered(sql) + ' RETURNING id'"),
    ("postgres/db.py", "_Statements.fetchone", "numbered(sql)"),
    ("postgres/db.py", "_Statements.fetchall", "numbered(sql)"),
    # Joins column assignments written in _SETTABLE (never a caller's name) and "?" placeholders.
    ("sql/jobs.py", "SqlJobs.transition", "sql"),
    # The migration scripts are constants of migrations.py, split into statements.
    ("sqlite/migrations.py", "_apply", "statement"),
    ("postgres/migrations.py", "_apply", "script"),
    # migrate-to-postgres names each table of COPIED_TABLES, a constant (identifiers take no
    # parameters).
    ("postgres/from_sqlite.py", "_copy_table", "f'PRAGMA table_info({table})'"),
    ("postgres/from_sqlite.py", "_copy_table", "f'SELECT * FROM {table}'"),
    ("postgres/from_sqlite.py", "_refuse_rows", "f'SELECT EXISTS (SELECT 1 FROM {table})'"),
    (
        "postgres/from_sqlite.py",
        "copy_into",
        "f\"LOCK TABLE {', '.join(COPIED_TABLES)} IN EXCLUSIVE MODE\"",
    ),
    # PRAGMA takes no parameters; the version is an int counted by the code.
    ("sqlite/migrations.py", "_apply", "f'PRAGMA user_version = {int(target)}'"),
}
"""SQL built at run time, each safe for the reason above; anything new must be added here."""


def _module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Names bound at module level, with the expression bound to them; names imported from
    another module of the project are followed there."""
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
            module = ROOT / (node.module or "").replace(".", "/")
            source = module / "__init__.py" if module.is_dir() else module.with_suffix(".py")
            imported = _module_constants(ast.parse(source.read_text()))
            found.update(
                {alias.name: imported[alias.name] for alias in node.names if alias.name in imported}
            )
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                found[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            found[node.target.id] = node.value
    return found


def _literal(node: ast.expr, constants: dict[str, ast.expr]) -> bool:
    """SQL made only of string literals, literal constants and placeholder helpers."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left, constants) and _literal(node.right, constants)
    if isinstance(node, ast.JoinedStr):
        return all(
            _literal(part.value if isinstance(part, ast.FormattedValue) else part, constants)
            for part in node.values
        )
    if isinstance(node, ast.Name) and node.id in constants:
        return _literal(constants[node.id], constants)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in PLACEHOLDER_HELPERS
    )


def _sql_arguments(path: Path) -> Iterator[tuple[str, ast.expr]]:
    """(qualified function name, SQL argument) of every query call in a module."""
    tree = ast.parse(path.read_text(), str(path))

    def walk(node: ast.AST, scope: tuple[str, ...]) -> Iterator[tuple[str, ast.expr]]:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                inner = (*scope, child.name)
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in SQL_METHODS
                and child.args
            ):
                yield ".".join(scope), child.args[0]
            yield from walk(child, inner)

    yield from walk(tree, ())


def test_sql_takes_values_only_as_parameters() -> None:
    dynamic: set[tuple[str, str, str]] = set()
    calls = 0
    storage = ROOT / "bot" / "storage"
    for path in sorted(storage.rglob("*.py")):
        constants = _module_constants(ast.parse(path.read_text(), str(path)))
        for function, sql in _sql_arguments(path):
            calls += 1
            if not _literal(sql, constants):
                dynamic.add((path.relative_to(storage).as_posix(), function, ast.unparse(sql)))
    assert calls > 30  # the scan sees the queries
    assert dynamic == NOT_LITERAL


def test_the_sql_check_catches_formatted_values() -> None:
    constants = _module_constants(ast.parse("_SELECT = 'SELECT * FROM jobs'"))
    for unsafe in (
        "f'SELECT * FROM jobs WHERE prompt = {prompt}'",
        "'SELECT * FROM jobs WHERE id = %s' % job_id",
        "'SELECT * FROM jobs WHERE id = {}'.format(job_id)",
        "_SELECT + ' WHERE id = ' + str(job_id)",
        "_SELECT + f' WHERE id = {job_id}'",
    ):
        assert not _literal(ast.parse(unsafe, mode="eval").body, constants), unsafe
    for safe in ("_SELECT + ' WHERE id = ?'", "f'{_SELECT} WHERE id IN ({placeholders(3)})'"):
        assert _literal(ast.parse(safe, mode="eval").body, constants), safe


# --- limits under a burst ----------------------------------------------------------------------


async def test_a_burst_of_200_messages_keeps_the_rate_and_job_limits(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(
        serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, rate_limit_commands=5
    ) as iris:
        assert (iris.settings.rate_limit_window, iris.settings.user_max_jobs) == (10, 2)
        iris.gptunnel.final_status = "processing"
        loop = asyncio.get_running_loop()
        started = loop.time()
        mark = iris.api.mark()
        for n in range(200):
            await iris.say(ALICE, f"/imagine burst {n}")
            if n == 100:
                await iris.say(BOB, "/help")
        # Bob, in the middle of the burst, is answered at once.
        help_reply = await iris.reply(BOB.id, after=mark, timeout=5)
        assert "Hi! I'm Iris" in text_of(help_reply)

        def to_alice() -> list[str]:
            calls = iris.api.calls_of("sendMessage")
            return [text_of(c) for c in calls if int(c.params["chat_id"]) == ALICE.id]

        await iris.api.wait_until(lambda: len(to_alice()) == 6)
        await iris.api.wait_until(lambda: len(iris.gptunnel.tasks) == 2)
        later = iris.api.mark()
        await iris.say(BOB, "/help")  # after the burst: every message of it was handled by now
        await iris.reply(BOB.id, after=later)
        assert loop.time() - started < 10  # all of it within one rate-limit window

        said = to_alice()
        [slow_down] = [t for t in said if "Slow down" in t]
        assert slow_down.startswith("Slow down a little: try again in ")
        assert sum(t.startswith(("🎨 Generating", "⏳ Waiting")) for t in said) == 5
        jobs = await iris.app.storage.jobs.active_for_user(ALICE.id)
        assert len(jobs) == 5
        assert len(iris.gptunnel.tasks) == 2  # USER_MAX_JOBS run at once; the rest wait

        iris.gptunnel.final_status = "done"
        await iris.api.wait_until(lambda: len(iris.api.calls_of("sendPhoto")) == 5)
        assert len(iris.gptunnel.tasks) == 5
        assert iris.api.errors == []
