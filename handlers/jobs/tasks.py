"""/tasks: the user's unfinished jobs, each with a Cancel button."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.formatting import escape, shorten
from bot.jobs.buttons import tasks_keyboard
from bot.providers import display_name
from bot.storage import Storage
from handlers.jobs.state_texts import state_text


async def tasks(message: Message, storage: Storage) -> None:
    """The user's unfinished jobs, each with a Cancel button."""
    if message.from_user is None:
        return
    jobs = await storage.jobs.active_for_user(message.from_user.id)
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
