"""The words of a job's status messages, in the job's language (callers set the locale)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.providers import display_name
from bot.storage.jobs import JobKind, JobRecord


def working_text(job: JobRecord, seconds: int) -> str:
    """The status while the provider works: provider and elapsed time."""
    provider = display_name(job.provider)
    if job.kind is JobKind.GENERATE:
        return _("🎨 Generating with {provider}… {seconds} s").format(
            provider=provider, seconds=seconds
        )
    return _("🔎 Looking at the photo with {provider}… {seconds} s").format(
        provider=provider, seconds=seconds
    )


def waiting_text(position: int) -> str:
    """The status of a job waiting for the user's earlier jobs: its place in line."""
    return _("⏳ Waiting for your other jobs to finish… (number {position} in line)").format(
        position=position
    )


def interrupted_text(job: JobRecord) -> str:
    """A job cut off by a restart while its paid call was in flight."""
    return _(
        "⚠️ This job was interrupted by a restart before {provider} confirmed it, "
        "so nothing was delivered. Tap Retry to send it again."
    ).format(provider=display_name(job.provider))


def daily_limit_text(limit: int) -> str:
    """The refusal once a user has used today's jobs on the operator's keys."""
    return ngettext(
        "You have used today's {limit} job on the bot's shared keys. Add your own key "
        "for more, or come back after 00:00 UTC.",
        "You have used today's {limit} jobs on the bot's shared keys. Add your own key "
        "for more, or come back after 00:00 UTC.",
        limit,
    ).format(limit=limit)


def cancelled_text() -> str:
    """The status of a job the user cancelled."""
    return _("✖️ Cancelled.")


def resized_notice(provider: str) -> str:
    """Said before a description when the photo was shrunk for the provider."""
    return _("(The photo was too large for {provider}, so it got a smaller copy.)").format(
        provider=display_name(provider)
    )
