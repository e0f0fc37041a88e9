"""A user as stored: language, /settings preferences and whether the bot can still reach them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One user as stored."""

    id: int
    language: str | None
    telegram_language: str | None
    preferences: dict[str, str]
    """The /settings choices (kept in the `settings` column)."""
    active: bool
