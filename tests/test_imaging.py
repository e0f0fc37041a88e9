"""The bot's image threads, and the Bot API response models kept alive between calls."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from typing import TypeVar

import pytest
from aiogram import Bot
from aiogram.methods import GetChatMemberCount, SendMessage, TelegramMethod
from aiogram.methods.base import Response

from bot.imaging import ImageWorkers
from bot.telegram import ResponseModels
from services.exceptions import InvalidImageError
from tests.test_images import decode, encode, noise

T = TypeVar("T")


async def test_a_kept_result_is_converted_on_an_image_thread() -> None:
    workers = ImageWorkers(threads=1)
    try:
        photo = await workers.photo(encode(noise((64, 48)), "WEBP"))
        assert (photo.mime_type, photo.converted) == ("image/jpeg", True)
        assert decode(photo.data).size == (64, 48)
        with pytest.raises(InvalidImageError):
            await workers.inspect(b"not an image")
        threads = {t.name for t in threading.enumerate()}
        assert any(name.startswith("images") for name in threads)
    finally:
        workers.close()


async def test_image_work_never_waits_behind_the_default_executor() -> None:
    workers = ImageWorkers(threads=1)
    blocker = threading.Event()
    loop = asyncio.get_running_loop()
    # Every default-executor thread busy: a conversion must still get through.
    busy = [loop.run_in_executor(None, blocker.wait) for _ in range(64)]
    try:
        info = await asyncio.wait_for(workers.inspect(encode(noise((8, 8)), "PNG")), 10)
        assert info.mime_type == "image/png"
    finally:
        blocker.set()
        await asyncio.gather(*busy)
        workers.close()


class _Answered:
    """The next step of the session's middleware chain: answers without any network."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, bot: Bot, method: TelegramMethod[T]) -> Response[T]:
        self.calls += 1
        return Response[T](ok=True)


async def _model_after_a_call(keep: ResponseModels, method: TelegramMethod[T]) -> object:
    """`Response[...]` of `method`'s result, looked up after one call through `keep`."""
    bot = Bot("42:" + "A" * 35)
    try:
        await keep(_Answered(), bot, method)
    finally:
        await bot.session.close()
    return Response[method.__returning__]  # type: ignore[name-defined]


async def test_response_models_outlive_garbage_collection() -> None:
    keep = ResponseModels()
    models = [
        weakref.ref(await _model_after_a_call(keep, SendMessage(chat_id=1, text="hi"))),
        weakref.ref(await _model_after_a_call(keep, GetChatMemberCount(chat_id=1))),
    ]
    gc.collect()
    # Without them kept, pydantic would build each again on the next call.
    assert [model() is not None for model in models] == [True, True]
