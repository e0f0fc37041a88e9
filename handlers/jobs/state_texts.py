"""How job states read to users (/tasks) and admins (/stats), in their language."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.storage.jobs import JobState


def state_text(state: str) -> str:
    """The state in words; a state this version does not know (a newer one's) as it is."""
    try:
        known = JobState(state)
    except ValueError:
        return state
    return {
        JobState.QUEUED: _("waiting"),
        JobState.SUBMITTING: _("sending"),
        JobState.POLLING: _("in progress"),
        JobState.DELIVERING: _("delivering"),
        JobState.DONE: _("done"),
        JobState.FAILED: _("failed"),
        JobState.CANCELLED: _("cancelled"),
        JobState.INTERRUPTED: _("interrupted"),
        JobState.TIMED_OUT: _("timed out"),
    }[known]
