"""/tasks and the buttons on job messages; the owner-only buttons get their job from PressedJob."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from bot.jobs.buttons import JobAction, JobButton
from handlers.jobs.buttons import again, cancel, favorite, original, other_ratio
from handlers.jobs.pressed import PressedJob
from handlers.jobs.tasks import tasks


def create_router() -> Router:
    """/tasks and the job buttons; anyone in the chat may ask for the original file."""
    router = Router(name="jobs")
    router.message.register(tasks, Command("tasks"))
    owner_only = Router(name="jobs_owner_buttons")
    owner_only.callback_query.middleware(PressedJob())
    owner_only.callback_query.register(other_ratio, JobAction.filter(F.action == JobButton.RATIO))
    owner_only.callback_query.register(favorite, JobAction.filter(F.action == JobButton.FAVORITE))
    owner_only.callback_query.register(cancel, JobAction.filter(F.action == JobButton.CANCEL))
    owner_only.callback_query.register(
        again, JobAction.filter(F.action.in_({JobButton.AGAIN, JobButton.RETRY}))
    )
    router.callback_query.register(original, JobAction.filter(F.action == JobButton.ORIGINAL))
    router.include_router(owner_only)
    return router
