"""/stats: users, and jobs per provider and state, for admins."""

from __future__ import annotations

import time
from collections import Counter

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.providers import display_name
from bot.storage import Storage
from bot.storage.jobs import JobCount, JobState
from handlers.jobs.state_texts import state_text

_FAILED = frozenset({JobState.FAILED, JobState.TIMED_OUT, JobState.INTERRUPTED})
_ENDED = frozenset({JobState.DONE}) | _FAILED


def _section(title: str, counts: list[JobCount]) -> list[str]:
    lines = [f"<b>{title}</b>"]
    by_provider: dict[str, Counter[str]] = {}
    for c in counts:
        by_provider.setdefault(c.provider, Counter())[c.state] += c.count
    if not by_provider:
        return [*lines, _("no jobs")]
    for provider, states in sorted(by_provider.items()):
        ended = sum(n for state, n in states.items() if state in _ENDED)
        failed = sum(n for state, n in states.items() if state in _FAILED)
        rate = f"{100 * failed / ended:.0f}%" if ended else "–"
        detail = ", ".join(f"{state_text(state)} {n}" for state, n in sorted(states.items()))
        total = sum(states.values())
        text = ngettext(
            "{provider}: {total} job ({detail}); failure rate {rate}",
            "{provider}: {total} jobs ({detail}); failure rate {rate}",
            total,
        )
        lines.append(
            text.format(provider=display_name(provider), total=total, detail=detail, rate=rate)
        )
    return lines


async def stats(message: Message, storage: Storage) -> None:
    """Users, jobs per provider and state, failure rate: the last hour and all time."""
    users = await storage.users.count()
    lines = [_("👥 Users: {count}").format(count=users), ""]
    lines += _section(_("Last hour"), await storage.jobs.counts(since=time.time() - 3600))
    lines += ["", *_section(_("All time"), await storage.jobs.counts())]
    await message.answer("\n".join(lines))
