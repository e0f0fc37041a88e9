"""Answering an inline query from what the bot keeps: never a provider call, never a job."""

from __future__ import annotations

from aiogram.types import InlineQuery, InlineQueryResultsButton, InlineQueryResultUnion

from bot.choices import KEYS_DEEP_LINK
from bot.keychain import KeyChain
from bot.storage import Storage
from bot.storage.users import UserRecord
from handlers.inline.offers import offers_for
from handlers.inline.pending import PendingRequests
from handlers.inline.results import generate_result, mistake_result, shared_result
from handlers.inline.texts import keys_button
from services.registry import Providers

PAGE = 20
"""Shared images per page of results (Telegram shows at most 50 results per answer)."""
CACHE_SECONDS = 5
"""Telegram may reuse an answer this long: results follow new images and keys quickly."""


async def answer_query(
    query: InlineQuery,
    pending: PendingRequests,
    keychain: KeyChain,
    storage: Storage,
    providers: Providers,
    user_record: UserRecord,
) -> None:
    """Offer to generate (first page only), then the user's images matching the words."""
    offset = int(query.offset) if query.offset.isdigit() else 0
    results: list[InlineQueryResultUnion] = []
    button = None
    offers = offers_for(
        query.query,
        user_id=query.from_user.id,
        usable=await keychain.sources(query.from_user.id),
        preferences=user_record.preferences,
        providers=providers,
    )
    if offset == 0:
        results += [generate_result(r, pending.keep(r)) for r in offers.requests]
        results += [mistake_result(i, m, offers.prompt) for i, m in enumerate(offers.mistakes)]
        if offers.needs_key:
            button = InlineQueryResultsButton(text=keys_button(), start_parameter=KEYS_DEEP_LINK)
    shared = await storage.jobs.shareable(
        query.from_user.id, words=offers.prompt.split(), limit=PAGE, offset=offset
    )
    results += [shared_result(job) for job in shared]
    await query.answer(
        results,
        cache_time=CACHE_SECONDS,
        is_personal=True,
        next_offset=str(offset + PAGE) if len(shared) == PAGE else "",
        button=button,
    )
