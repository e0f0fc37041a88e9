"""/tasks and the buttons on job messages: cancel, again, retry, original, favorite, ratios."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, FSInputFile, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import JobAction, JobButton
from bot.error_texts import error_text
from bot.formatting import escape, shorten
from bot.job_states import state_text
from bot.jobs.runner import JobRunner
from bot.keyboards import result_keyboard, tasks_keyboard
from bot.keychain import KeyChain
from bot.providers import display_name
from bot.storage import Storage
from bot.storage.jobs import JobRecord, JobState, NewJob
from bot.telegram import edit_markup
from services.ailuna import AiLunaCredential
from services.exceptions import ServiceError
from services.gptunnel import ASPECT_RATIOS
from services.registry import Providers

logger = logging.getLogger(__name__)


async def tasks(message: Message, store: Storage) -> None:
    """The user's unfinished jobs, each with a Cancel button."""
    if message.from_user is None:
        return
    jobs = await store.jobs.active_for_user(message.from_user.id)
    if not jobs:
        await message.answer(_("You have no running jobs."))
        return
    lines = [_("<b>Your running jobs</b>")]
    for job in jobs:
        lines.append(
            f"#{job.id} · {display_name(job.provider)} · {state_text(job.state)} · "
            f"<i>{shorten(escape(job.prompt), 60)}</i>"
        )
    await message.answer("\n".join(lines), reply_markup=tasks_keyboard(j.id for j in jobs))


async def _own_job(query: CallbackQuery, data: JobAction, store: Storage) -> JobRecord | None:
    """The job behind a button, if it exists, is in this chat and belongs to the presser."""
    job = await store.jobs.get(data.job_id)
    chat_id = query.message.chat.id if query.message else None
    if job is None or job.chat_id != chat_id:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return None
    if job.user_id != query.from_user.id:
        await query.answer(_("Only the person who started this job can use this button."))
        return None
    return job


async def cancel(
    query: CallbackQuery, callback_data: JobAction, store: Storage, runner: JobRunner
) -> None:
    """✖️ Cancel: stop the job; a result that arrives later is dropped."""
    job = await _own_job(query, callback_data, store)
    if job is None:
        return
    if await runner.cancel(job):
        await query.answer(_("Cancelled."))
    else:
        await query.answer(_("This job has already finished."))


async def again(
    query: CallbackQuery,
    callback_data: JobAction,
    store: Storage,
    runner: JobRunner,
    i18n: I18n,
) -> None:
    """🔁 Again / Retry: the same request as a new job."""
    job = await _own_job(query, callback_data, store)
    if job is None:
        return
    # An interrupted job is closed first, so a second press of Retry cannot start a second copy.
    if callback_data.action is JobButton.RETRY and not await store.jobs.transition(
        job.id,
        to=JobState.CANCELLED,
        expect=(JobState.INTERRUPTED,),
        now=time.time(),
        error="retried",
    ):
        await query.answer(_("This job was already retried or finished."))
        return
    await _repeat(job, runner, i18n, options=job.options)
    await query.answer()


async def other_ratio(
    query: CallbackQuery, callback_data: JobAction, store: Storage, runner: JobRunner, i18n: I18n
) -> None:
    """An aspect ratio under a GPTunnel result: the same prompt again in that ratio."""
    job = await _own_job(query, callback_data, store)
    if job is None:
        return
    ratio = callback_data.value.replace("x", ":")
    if ratio not in ASPECT_RATIOS or "ar" not in job.options:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await _repeat(job, runner, i18n, options={**job.options, "ar": ratio})
    await query.answer()


async def favorite(
    query: CallbackQuery,
    callback_data: JobAction,
    store: Storage,
    keychain: KeyChain,
    providers: Providers,
    bot: Bot,
) -> None:
    """⭐ under an AiLuna result: add the image to (or take it out of) the user's favorites."""
    job = await _own_job(query, callback_data, store)
    if job is None:
        return
    if job.remote_id is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    resolved = await keychain.resolve(job.user_id, "ailuna")
    # The image is in the account that made it: a key added or removed since is another account.
    credential = resolved.credential if resolved else None
    if (
        resolved is None
        or resolved.source != job.credential_source
        or not isinstance(credential, AiLunaCredential)
    ):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    wanted = callback_data.value != "1"
    try:
        await providers.ailuna.update(credential, image_id=job.remote_id, favorite=wanted)
    except ServiceError as e:
        await query.answer(error_text(e), show_alert=True)
        return
    await edit_markup(
        bot,
        chat_id=query.message.chat.id,
        message_id=query.message.message_id,
        reply_markup=result_keyboard(job, favorite=wanted),
    )
    await query.answer(_("Added to favorites.") if wanted else _("Removed from favorites."))


async def _repeat(
    job: JobRecord, runner: JobRunner, i18n: I18n, *, options: Mapping[str, str]
) -> None:
    """A new job asking the same of the same provider, with these options."""
    await runner.enqueue(
        NewJob(
            kind=job.kind,
            provider=job.provider,
            user_id=job.user_id,
            chat_id=job.chat_id,
            chat_type=job.chat_type,
            request_message_id=job.request_message_id,
            prompt=job.prompt,
            options=dict(options),
            input_file_id=job.input_file_id,
            credential_source=job.credential_source,
            language=i18n.current_locale,
            parent_id=job.parent_id,
        ),
        repeat=True,
    )


async def original(
    query: CallbackQuery, callback_data: JobAction, store: Storage, runner: JobRunner, bot: Bot
) -> None:
    """📎 Original file: the untouched result bytes as a document (anyone in the chat may ask)."""
    job = await store.jobs.get(callback_data.job_id)
    chat_id = query.message.chat.id if query.message else None
    path = runner.result_file(job) if job is not None else None
    if job is None or job.chat_id != chat_id or path is None or not path.is_file():
        await query.answer(_("The original file is no longer available."), show_alert=True)
        return
    document = job.document_file_id or FSInputFile(path, filename=f"iris-{job.id}{path.suffix}")
    sent = await bot.send_document(chat_id=job.chat_id, document=document)
    if job.document_file_id is None and sent.document is not None:
        await store.jobs.set_document_file_id(job.id, sent.document.file_id)
    await query.answer()


def create_router() -> Router:
    """The jobs router with its handlers."""
    router = Router(name="jobs")
    router.message.register(tasks, Command("tasks"))
    router.callback_query.register(other_ratio, JobAction.filter(F.action == JobButton.RATIO))
    router.callback_query.register(favorite, JobAction.filter(F.action == JobButton.FAVORITE))
    router.callback_query.register(cancel, JobAction.filter(F.action == JobButton.CANCEL))
    router.callback_query.register(
        again, JobAction.filter(F.action.in_({JobButton.AGAIN, JobButton.RETRY}))
    )
    router.callback_query.register(original, JobAction.filter(F.action == JobButton.ORIGINAL))
    return router
