"""Per-user hit counts over a sliding window, and albums claimed once: in memory for one
process, or in the database (bot/storage/sql/shared_state.py) for several."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Protocol

ALBUMS_REMEMBERED = 1000
"""Albums remembered per process, so the memory stays bounded however many albums arrive."""


@dataclass(frozen=True, slots=True)
class RateVerdict:
    """A hit's outcome: let through, or refused with the seconds until a slot frees."""

    wait: float | None = None
    """None: counted and let through."""
    warn: bool = False
    """Refused and not yet told in this window: say so once."""


class RateHits(Protocol):
    """Counts each user's hits; a hit over `limit` in `window` seconds is refused."""

    async def hit(
        self, user_id: int, *, now: float, window: float, limit: int, tell: bool
    ) -> RateVerdict:
        """Count a hit at `now` if the user has a slot, else say how long until one frees;
        `tell`: a refusal here would be told in a message, once per window."""


class AlbumClaims(Protocol):
    """Which photo of an album (media group) is its first, claimed once per chat."""

    async def first(self, chat_id: int, media_group_id: str) -> bool:
        """True the first time an album is seen in a chat, False for its other photos."""


class MemoryRateHits:
    """Hits in this process's memory: right when one process takes every update."""

    def __init__(self) -> None:
        # Ordered by each user's latest counted hit (moved to the end on every hit), so users
        # whose window has passed sit at the front and are forgotten there: memory stays bounded
        # by the users active within one window, at amortised O(1) per update.
        self._users: OrderedDict[int, _UserHits] = OrderedDict()

    @property
    def users_tracked(self) -> int:
        """How many users' hits are held now."""
        return len(self._users)

    async def hit(
        self, user_id: int, *, now: float, window: float, limit: int, tell: bool
    ) -> RateVerdict:
        """Count a hit at `now` if the user has a slot, else say how long until one frees."""
        self._forget_before(now - window)
        state = self._users.get(user_id)
        if state is None:
            state = self._users[user_id] = _UserHits()
        hits = state.hits
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) < limit:
            hits.append(now)
            self._users.move_to_end(user_id)
            return RateVerdict()
        warn = tell and state.warned_at < hits[0]  # one warning per full window
        if warn:
            state.warned_at = now
        return RateVerdict(wait=hits[0] + window - now, warn=warn)

    def _forget_before(self, horizon: float) -> None:
        """Drop the users whose latest hit is at or before `horizon`: their window has passed."""
        users = self._users
        while users:
            hits = next(iter(users.values())).hits
            if hits and hits[-1] > horizon:
                return
            users.popitem(last=False)


@dataclass(slots=True)
class _UserHits:
    """One user's counted hits within the window, and when they were last told to slow down."""

    hits: deque[float] = field(default_factory=deque)
    warned_at: float = -1.0


class AlbumMemo:
    """The albums already seen by this process, newest last, at most `capacity` of them."""

    def __init__(self, *, capacity: int = ALBUMS_REMEMBERED) -> None:
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._capacity = capacity

    async def first(self, chat_id: int, media_group_id: str) -> bool:
        """True the first time an album is seen in a chat, False for its other photos.

        Never awaits: an update reaches it before any other in the order Telegram sent them.
        """
        key = (chat_id, media_group_id)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True
