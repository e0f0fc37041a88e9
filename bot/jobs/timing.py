"""How often a job polls, reports progress and repeats its chat action."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    """The runner's clocks; tests shorten them, production keeps the defaults."""

    poll_delays: tuple[float, ...] = (1, 1, 2, 2, 3, 3, 5, 5, 8)
    """Seconds before each poll; the last repeats (at most `poll_max`): a 20 s job polls 8 times."""
    poll_max: float = 10.0
    progress_every: float = 5.0
    """Status message edits; Telegram allows about one edit a second per chat, groups fewer."""
    action_every: float = 4.5
    """Chat actions last 5 s on the user's screen, so they are repeated a little sooner."""
    redelivery_delays: tuple[float, ...] = (5, 30, 120, 300, 600, 1200)
    """Waits before sending a kept result again while Telegram is unreachable (~38 min in all)."""

    def poll_schedule(self) -> Iterator[float]:
        """The wait before each poll, forever (the job's deadline ends it)."""
        yield from self.poll_delays
        last = min(self.poll_delays[-1] if self.poll_delays else self.poll_max, self.poll_max)
        while True:
            yield last
