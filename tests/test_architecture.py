"""Layering rules: services know nothing of aiogram; nothing on the update path runs in a thread."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from bot.filters import FromUsers, InGroupChat, InPrivateChat
from handlers import collect_routers

SERVICES = Path(__file__).resolve().parent.parent / "services"


def test_services_source_never_imports_aiogram() -> None:
    offenders = []
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(SERVICES)}: {n}" for n in names if n.split(".")[0] == "aiogram"
            ]
    assert offenders == []


def test_importing_every_service_loads_no_aiogram() -> None:
    modules = sorted(
        ".".join(("services", *p.relative_to(SERVICES).with_suffix("").parts))
        for p in SERVICES.rglob("*.py")
        if p.stem != "__init__"
    )
    code = f"import sys; import {', '.join(modules)}; print('aiogram' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=SERVICES.parent,
    )  # fmt: skip
    assert result.stdout.strip() == "False"


def _filters_and_handlers(router: Router) -> Iterator[tuple[str, CallableObject]]:
    for event, observer in router.observers.items():
        for event_filter in observer._handler.filters or ():
            yield f"{router.name}.{event} router filter", event_filter
        for handler in observer.handlers:
            yield f"{router.name}.{event} {handler.callback!r}", handler
            for event_filter in handler.filters or ():
                yield f"{router.name}.{event} filter of {handler.callback!r}", event_filter
    for sub_router in router.sub_routers:
        yield from _filters_and_handlers(sub_router)


def test_no_filter_or_handler_runs_in_a_thread() -> None:
    # aiogram runs a plain function, an F magic filter or a State in a worker thread for
    # every update that reaches it: a thread hop each, measured as the bot's largest cost.
    blocking = [
        where
        for router in collect_routers(admin_ids=[1])
        for where, callable_object in _filters_and_handlers(router)
        if not callable_object.awaitable
    ]
    assert blocking == []


def _root_filters(router: Router, event: str) -> list[object]:
    return [f.callback for f in router.observers[event]._handler.filters or ()]


def test_each_scope_router_carries_its_chat_filter_once_for_what_it_takes() -> None:
    scopes = {router.name: router for router in collect_routers(admin_ids=[1])}
    for name, kind, events in (
        ("private", InPrivateChat, ("message", "callback_query")),
        ("groups", InGroupChat, ("message", "callback_query")),
        ("admins", FromUsers, ("message",)),
    ):
        for event in events:
            filters = _root_filters(scopes[name], event)
            assert [type(f) for f in filters] == [kind], (name, event)
        assert scopes[name].sub_routers, name


def test_only_the_job_runner_changes_a_jobs_state() -> None:
    """The pipeline reads one way: handlers store a job and hand it over; after that, only
    bot/jobs/ moves it from state to state."""
    root = SERVICES.parent
    callers = set()
    for path in [*root.glob("bot/**/*.py"), *root.glob("handlers/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr == "transition":
                callers.add(path.parent.relative_to(root).as_posix())
    assert callers - {"bot/storage"} == {"bot/jobs"}
