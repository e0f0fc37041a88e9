"""Waiting at start until Telegram answers getMe; a token Telegram rejects stops the process."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetMe

from services.http import RetryPolicy

logger = logging.getLogger(__name__)

# The project's own capped exponential backoff with equal jitter (services.http), rather than a
# retry library: it is the one the provider clients use, and the logging rule below is ours anyway.
BACKOFF = RetryPolicy(base_delay=1.0, max_delay=60.0)
"""Waits between getMe attempts: 1 s doubling up to 60 s, jittered."""

REMIND_EVERY = 300.0
"""Seconds between "still not reachable" lines while Telegram stays away."""

PROBE_TIMEOUT = 10
"""Seconds one getMe attempt may take, connection included."""

_PASSING = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, ClientDecodeError)
"""Failures of a network that is not up yet, or of Telegram itself: waited out."""


class TokenRejectedError(Exception):
    """Telegram does not know BOT_TOKEN: no wait will help."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Telegram rejected BOT_TOKEN ({reason}): check it with @BotFather")


async def get_me(bot: Bot) -> None:
    """One getMe, straight through the session: the retrying request middlewares would log
    every attempt, and this wait has its own backoff and logging."""
    await bot.session.make_request(bot, GetMe(), timeout=PROBE_TIMEOUT)


async def wait_for_telegram(
    probe: Callable[[], Awaitable[object]],
    *,
    policy: RetryPolicy = BACKOFF,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> None:
    """Call `probe` until it succeeds, with backoff; raise TokenRejectedError on 401 or 404.

    Logs one line when Telegram first fails to answer, a reminder every REMIND_EVERY seconds,
    and one line when it answers at last.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    started = clock()
    reminded: float | None = None
    attempt = 0
    while True:
        try:
            await probe()
        except (TelegramUnauthorizedError, TelegramNotFound) as e:
            # The Bot API answers 404 when the token in the path is not a bot's token at all.
            raise TokenRejectedError(e.message) from None
        except _PASSING as e:
            delay = policy.delay(min(attempt, 16), rng)  # 16: far past the cap
            if isinstance(e, TelegramRetryAfter):
                delay = max(delay, float(e.retry_after))
            now = clock()
            if reminded is None:
                logger.warning("Telegram is not reachable yet (%s); retrying", _reason(e))
                reminded = now
            elif now - reminded >= REMIND_EVERY:
                logger.warning(
                    "Telegram is still not reachable after %d s (%s); retrying",
                    now - started,
                    _reason(e),
                )
                reminded = now
            attempt += 1
            await sleep(delay)
        else:
            if reminded is not None:
                logger.info("Telegram answered after %d s", clock() - started)
            return


async def unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run `work` to its end (True), or cancel it when `stop` is set first (False)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, stopped):
            pending.cancel()
        await asyncio.gather(task, stopped, return_exceptions=True)
    if task.cancelled():
        return False
    task.result()  # its exception, if it raised one
    return True


def _reason(error: Exception) -> str:
    """What went wrong, in a few words: aiogram's message names the host, never the token."""
    if isinstance(error, TelegramServerError):
        return f"Telegram answered {error.message}"
    if isinstance(error, TelegramRetryAfter):
        return f"flood control, retry after {error.retry_after} s"
    if isinstance(error, ClientDecodeError):
        return "an answer that is not the Bot API's"
    return str(getattr(error, "message", type(error).__name__))
