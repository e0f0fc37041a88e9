"""The buttons on job messages: cancel, again, retry, other ratios, favorite, original file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.jobs.buttons import JobAction, JobButton, result_keyboard
from bot.jobs.runner import JobRunner
from bot.keychain import KeyChain
from bot.storage import Storage
from bot.storage.jobs import JobRecord
from bot.storage.results import ResultStore
from bot.telegram import edit_markup
from handlers.common.favorite import toggle_favorite
from handlers.common.stale import no_longer_valid
from services.ailuna import AiLunaCredential, AiLunaImage
from services.gptunnel import ASPECT_RATIOS
from services.registry import Providers


async def cancel(query: CallbackQuery, job: JobRecord, runner: JobRunner) -> None:
    """✖️ Cancel: stop the job; a result that arrives later is dropped."""
    if await runner.cancel(job):
        await query.answer(_("Cancelled."))
    else:
        await query.answer(_("This job has already finished."))


async def again(
    query: CallbackQuery,
    callback_data: JobAction,
    job: JobRecord,
    runner: JobRunner,
    i18n: I18n,
) -> None:
    """🔁 Again / Retry: the same request as a new job."""
    if callback_data.action is JobButton.RETRY:
        if not await runner.retry(job, language=i18n.current_locale):
            await query.answer(_("This job was already retried or finished."))
            return
    else:
        await _repeat(job, runner, i18n, options=job.options)
    await query.answer()


async def other_ratio(
    query: CallbackQuery, callback_data: JobAction, job: JobRecord, runner: JobRunner, i18n: I18n
) -> None:
    """An aspect ratio under a GPTunnel result: the same prompt again in that ratio."""
    ratio = callback_data.value.replace("x", ":")
    if ratio not in ASPECT_RATIOS or "ar" not in job.options:
        await no_longer_valid(query)
        return
    await _repeat(job, runner, i18n, options={**job.options, "ar": ratio})
    await query.answer()


async def favorite(
    query: CallbackQuery,
    callback_data: JobAction,
    job: JobRecord,
    keychain: KeyChain,
    providers: Providers,
    bot: Bot,
) -> None:
    """⭐ under an AiLuna result: add the image to (or take it out of) the user's favorites."""
    message = query.message
    if job.remote_id is None or not isinstance(message, Message):
        await no_longer_valid(query)
        return
    resolved = await keychain.resolve(job.user_id, "ailuna")
    # The image is in the account that made it: a key added or removed since is another account.
    credential = resolved.credential if resolved else None
    if (
        resolved is None
        or resolved.source != job.credential_source
        or not isinstance(credential, AiLunaCredential)
    ):
        await no_longer_valid(query)
        return

    async def show(_image: AiLunaImage, starred: bool) -> None:
        await edit_markup(
            bot,
            chat_id=message.chat.id,
            message_id=message.message_id,
            reply_markup=result_keyboard(job, favorite=starred),
        )

    await toggle_favorite(
        query,
        providers,
        credential,
        image_id=job.remote_id,
        wanted=callback_data.value != "1",
        show=show,
    )


async def _repeat(
    job: JobRecord, runner: JobRunner, i18n: I18n, *, options: Mapping[str, str]
) -> None:
    """A new job asking the same of the same provider, with these options."""
    await runner.enqueue(job.again(language=i18n.current_locale, options=options), repeat=True)


async def original(
    query: CallbackQuery, callback_data: JobAction, storage: Storage, bot: Bot
) -> None:
    """📎 Original file: the untouched result bytes as a document (anyone in the chat may ask)."""
    job = await storage.jobs.get(callback_data.job_id)
    chat_id = query.message.chat.id if query.message else None
    document = None
    if job is not None and job.chat_id == chat_id:
        document = await _original_document(job, storage.results)
    if job is None or document is None:
        await query.answer(_("The original file is no longer available."), show_alert=True)
        return
    sent = await bot.send_document(
        chat_id=job.chat_id, message_thread_id=job.thread_id, document=document
    )
    if job.document_file_id is None and sent.document is not None:
        await storage.jobs.set_document_file_id(job.id, sent.document.file_id)
    await query.answer()


async def _original_document(
    job: JobRecord, results: ResultStore
) -> str | BufferedInputFile | None:
    """The kept result as sendDocument takes it: Telegram's copy once sent, else its bytes; None
    once it is no longer kept."""
    if job.result_path is None:
        return None
    if job.document_file_id is not None:
        return job.document_file_id if await results.exists(job.id) else None
    data = await results.get(job.id)
    name = f"iris-{job.id}{PurePath(job.result_path).suffix}"
    return None if data is None else BufferedInputFile(data, filename=name)
