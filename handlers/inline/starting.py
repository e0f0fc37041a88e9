"""Starting an inline request's job: on the chosen result (inline feedback) or on ▶️."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import CallbackQuery, ChosenInlineResult
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import I18n

from bot.choices import KEYS_DEEP_LINK
from bot.config import Settings
from bot.jobs.buttons import InlineStart
from bot.jobs.runner import JobRunner
from bot.keyboards import deep_link_keyboard
from bot.keychain import KeyChain
from bot.storage import Storage
from bot.storage.jobs import JobKind, NewJob
from bot.storage.users import UserRecord
from handlers.common.stale import no_longer_valid
from handlers.inline.offers import offers_for
from handlers.inline.pending import InlineRequest, PendingRequests
from handlers.inline.results import start_keyboard
from handlers.inline.texts import expired_text, no_key_text, not_yours_text, started_text
from services.registry import Providers

logger = logging.getLogger(__name__)

_starting = asyncio.Lock()
"""One start at a time: the chosen result and a ▶️ press may arrive together."""


async def chosen(
    result: ChosenInlineResult,
    pending: PendingRequests,
    keychain: KeyChain,
    providers: Providers,
    user_record: UserRecord,
    bot: Bot,
    runner: JobRunner,
    storage: Storage,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A "Generate" result was chosen (inline feedback on): start its job at once."""
    if not result.result_id.startswith("g:") or result.inline_message_id is None:
        return  # a shared image or an explanation: nothing to do
    token = result.result_id.removeprefix("g:")
    request = pending.get(token)
    if request is None:  # restarted since the query: the query itself says it again
        offers = offers_for(
            result.query,
            user_id=result.from_user.id,
            usable=await keychain.sources(result.from_user.id),
            preferences=user_record.preferences,
            providers=providers,
        )
        request = next((r for r in offers.requests if r.token == token), None)
    if request is None or request.user_id != result.from_user.id:
        logger.info("a chosen inline result no longer matches a request")
        return
    await start(
        request,
        result.inline_message_id,
        bot=bot,
        runner=runner,
        storage=storage,
        keychain=keychain,
        settings=settings,
        language=i18n.current_locale,
    )


async def pressed(
    query: CallbackQuery,
    callback_data: InlineStart,
    pending: PendingRequests,
    keychain: KeyChain,
    bot: Bot,
    runner: JobRunner,
    storage: Storage,
    settings: Settings,
    i18n: I18n,
) -> None:
    """▶️ on a posted request: start its job (once, however often it is pressed)."""
    if query.inline_message_id is None:
        await no_longer_valid(query)
        return
    request = pending.get(callback_data.token)
    if request is None:
        await query.answer(expired_text(), show_alert=True)
        return
    if request.user_id != query.from_user.id:
        await query.answer(not_yours_text())
        return
    started = await start(
        request,
        query.inline_message_id,
        bot=bot,
        runner=runner,
        storage=storage,
        keychain=keychain,
        settings=settings,
        language=i18n.current_locale,
    )
    await query.answer(None if started else started_text())


async def start(
    request: InlineRequest,
    inline_message_id: str,
    *,
    bot: Bot,
    runner: JobRunner,
    storage: Storage,
    keychain: KeyChain,
    settings: Settings,
    language: str,
) -> bool:
    """Start the request's job in the inline message; False when one was already started.

    Nothing is paid before the bot knows where it can upload the result.
    """
    async with _starting:
        if await storage.jobs.for_inline_message(inline_message_id) is not None:
            return False
        inline = runner.notifier.inline
        if settings.storage_chat_id is None and not await _has_private_chat(bot, request.user_id):
            await inline.say_no_place(inline_message_id, start_keyboard(request.token))
            return True
        source = (await keychain.sources(request.user_id)).get(request.provider)
        if source is None:
            link = await create_start_link(bot, KEYS_DEEP_LINK)
            await inline.edit(
                inline_message_id, no_key_text(request.provider), deep_link_keyboard(link)
            )
            return True
        await runner.enqueue(
            NewJob(
                kind=JobKind.GENERATE,
                provider=request.provider,
                user_id=request.user_id,
                chat_id=request.user_id,
                chat_type="inline",
                prompt=request.prompt,
                options=request.options,
                credential_source=source,
                language=language,
                inline_message_id=inline_message_id,
            )
        )
        return True


async def _has_private_chat(bot: Bot, user_id: int) -> bool:
    """Whether the user ever opened the private chat with the bot (so it may upload there)."""
    try:
        await bot.get_chat(user_id)
    except (TelegramBadRequest, TelegramForbiddenError):
        return False
    return True
