"""Builds the whole application: storage, providers, Bot, Dispatcher with routers, job runner."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.commands import register_commands
from bot.config import Settings
from bot.health import HealthServer
from bot.i18n import UserLanguageMiddleware, create_i18n
from bot.imaging import ImageWorkers
from bot.instances import join_instances, new_instance_id
from bot.jobs.durations import ProviderDurations
from bot.jobs.limits import Limits
from bot.jobs.runner import JobRunner
from bot.jobs.timing import Timing
from bot.keychain import KeyChain
from bot.metrics import Metrics
from bot.middlewares import (
    AlbumOrderMiddleware,
    AllowlistMiddleware,
    RateLimitMiddleware,
    UserRecordMiddleware,
)
from bot.outbox import Outbox, Pacing
from bot.providers import BY_ID, build_providers, operator_credentials
from bot.shared_state import shared_state
from bot.storage import Storage, open_storage
from bot.storage.sqlite.lock import DataDirLock
from bot.telegram import PatientRequests, ResponseModels
from handlers import collect_routers
from handlers.inline.pending import PendingRequests
from services.http import new_session

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Application:
    """The long-lived objects of one bot process."""

    bot: Bot
    outbox: Outbox
    dispatcher: Dispatcher
    storage: Storage
    runner: JobRunner
    http: aiohttp.ClientSession
    metrics: Metrics
    close: Callable[[], Awaitable[None]]
    """Closes everything, for a process that stops before polling or the webhook began."""


def freeze_heap() -> None:
    """Take everything built so far out of the garbage collector's sight, for good.

    Once the application is built, nearly all of the heap (aiogram's and pydantic's ~200,000
    objects) lives as long as the process; each full collection scanned it again, a 140 ms stall
    of every update in flight. Called by the long-lived process once, after create_application.
    """
    gc.freeze()
    logger.info("%d long-lived objects kept out of garbage collection", gc.get_freeze_count())


def _user_id(key: str) -> int | None:
    """The user a notice names; None when it names none (any line may have moved)."""
    return int(key) if key.lstrip("-").isdigit() else None


def create_bot(settings: Settings, outbox: Outbox, requests: PatientRequests) -> Bot:
    """The Bot, talking to the official Bot API or to TELEGRAM_API_URL; every call it makes
    passes the outbox, so none can go around Telegram's limits."""
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        if settings.telegram_api_url
        else AiohttpSession()
    )
    session.middleware(ResponseModels())
    session.middleware(outbox)
    session.middleware(requests)
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def create_application(
    settings: Settings,
    *,
    timing: Timing | None = None,
    pacing: Pacing | None = None,
    worker: bool = False,
) -> Application:
    """Open storage, build providers, Bot, Dispatcher (shared objects in workflow data); a
    `worker` only runs jobs, so it leaves the command menus to the process taking updates."""
    database_url = settings.database_url.get_secret_value() if settings.database_url else None
    # SQLite's file belongs to one process; PostgreSQL is shared by design: no lock there.
    lock = None if database_url else DataDirLock(settings.data_dir)
    if lock is not None:
        await asyncio.to_thread(lock.acquire)
    keys_secret = settings.keys_secret.get_secret_value() if settings.keys_secret else None
    try:
        storage = await open_storage(
            data_dir=settings.data_dir, keys_secret=keys_secret, database_url=database_url
        )
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    http = new_session()
    metrics = Metrics()
    providers = build_providers(settings, http, storage=storage, observer=metrics.observe_request)
    keychain = KeyChain(
        credentials=storage.credentials,
        credits=storage.credits,
        tokens=storage.tokens,
        descriptions=BY_ID,
        operator=operator_credentials(settings),
    )
    i18n = create_i18n(settings.default_language)
    requests = PatientRequests()
    outbox = Outbox(pacing or Pacing(rate=settings.telegram_rate))
    bot = create_bot(settings, outbox, requests)
    instance = new_instance_id()
    # Before anything is sent: the others slow down as this instance joins.
    instances = await join_instances(storage, outbox.set_share, instance=instance)
    images = ImageWorkers()
    runner = JobRunner(
        bot=bot,
        outbox=outbox,
        storage=storage,
        providers=providers,
        keychain=keychain,
        i18n=i18n,
        job_timeout=settings.job_timeout,
        daily_limit=settings.operator_daily_limit,
        limits=Limits(
            user_max_jobs=settings.user_max_jobs,
            provider_max_concurrency=settings.provider_max_concurrency,
        ),
        images=images,
        durations=await ProviderDurations.load(storage.jobs, providers.generators),
        instance=instance,
        job_lease=settings.job_lease,
        shared=storage.listener is not None,
        timing=timing,
        storage_chat_id=settings.storage_chat_id,
    )
    if storage.listener is not None:
        storage.listener.watch("lines", lambda user: runner.lines_moved(_user_id(user)))
        storage.listener.watch("released", lambda _: runner.jobs_released())
    shared = shared_state(storage, several_instances=database_url is not None)
    dispatcher = Dispatcher(
        storage=shared.fsm,
        settings=settings,
        http=http,
        providers=providers,
        keychain=keychain,
        runner=runner,
        images=images,
        pending=PendingRequests(),
    )
    # Passed as `storage` to handlers; Dispatcher(storage=...) is the FSM's.
    dispatcher["storage"] = storage
    dispatcher.update.outer_middleware(AlbumOrderMiddleware(shared.albums))
    if settings.allowed_user_ids:
        # Admins are always let in, so an allowlist can never lock the operator out.
        allowed = {*settings.allowed_user_ids, *settings.admin_ids}
        dispatcher.update.outer_middleware(AllowlistMiddleware(allowed, i18n=i18n))
    dispatcher.update.outer_middleware(UserRecordMiddleware(storage.users))
    UserLanguageMiddleware(i18n).setup(dispatcher)
    rate_limit = RateLimitMiddleware(
        limit=settings.rate_limit_commands,
        window=settings.rate_limit_window,
        clock=shared.rate_clock,
        hits=shared.rate_hits,
    )
    dispatcher.message.outer_middleware(rate_limit)
    dispatcher.callback_query.outer_middleware(rate_limit)
    dispatcher.include_routers(*collect_routers(admin_ids=settings.admin_ids))

    health = HealthServer(
        storage=storage,
        runner=runner,
        metrics=metrics,
        telegram_last_ok=lambda: requests.last_ok,
        ping_telegram=bot.get_me,
    )

    async def on_startup() -> None:
        try:
            await runner.start()
            logger.info("job runner started")
            if settings.metrics_port:
                await health.start(settings.metrics_host, settings.metrics_port)
            if not worker:
                await register_commands(bot, i18n, admin_ids=settings.admin_ids)
        except BaseException:
            # Neither aiogram nor aiohttp runs the shutdown hooks after a failed startup hook.
            await close()
            raise

    async def release() -> None:
        await runner.stop()
        await outbox.close()
        if instances is not None:
            await instances.stop()
        images.close()
        await health.stop()
        await http.close()
        await storage.close()
        if lock is not None:
            lock.release()

    async def on_shutdown() -> None:
        await release()
        logger.info("stopped cleanly")

    async def close() -> None:
        await release()
        await bot.session.close()

    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)
    return Application(
        bot=bot,
        outbox=outbox,
        dispatcher=dispatcher,
        storage=storage,
        runner=runner,
        http=http,
        metrics=metrics,
        close=close,
    )
