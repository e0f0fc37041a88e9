"""How often a job polls, reports progress and repeats its chat action."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

LEAD_STEPS = 2
"""Polls a step apart begin this many steps before a provider's usual job time..."""
MARGIN_STEPS = 3
"""...and go on this many steps after it, then back off."""


@dataclass(frozen=True, slots=True)
class Timing:
    """The runner's clocks; tests shorten them, production keeps the defaults."""

    poll_delays: tuple[float, ...] = (1, 1, 2, 2, 3, 3, 5, 5, 8)
    """Seconds before each poll; the last repeats (at most `poll_max`): a 20 s job polls 8 times.
    The first is also the step between polls around a provider's usual job time, and the larger
    ones are the back-off after it."""
    poll_max: float = 10.0
    progress_every: float = 5.0
    """Status message edits; Telegram allows about one edit a second per chat, groups fewer."""
    action_every: float = 4.5
    """Chat actions last 5 s on the user's screen, so they are repeated a little sooner."""
    redelivery_delays: tuple[float, ...] = (5, 30, 120, 300, 600, 1200)
    """Waits before sending a kept result again while Telegram is unreachable (~38 min in all)."""

    def __post_init__(self) -> None:
        if not self.poll_delays or min(self.poll_delays) <= 0 or self.poll_max <= 0:
            raise ValueError("poll delays must be positive")

    def poll_schedule(self, usual: float | None = None, *, elapsed: float = 0.0) -> Iterator[float]:
        """The wait before each poll, forever (the job's deadline ends it).

        `usual` is the provider's usual job time (None before it has one: the fixed schedule);
        `elapsed` how long ago the job was submitted, so a resumed job skips polls already due.
        """
        if usual is None:
            yield from self.poll_delays
            while True:
                yield self._last_delay
        now = elapsed
        for at in self._poll_times(usual):
            if at >= now:
                yield at - now
                now = at

    @property
    def _last_delay(self) -> float:
        return min(self.poll_delays[-1], self.poll_max)

    def _poll_times(self, usual: float) -> Iterator[float]:
        """Seconds after the submit at which to poll a job expected to take `usual` seconds."""
        step = self.poll_delays[0]
        first_close = max(usual - LEAD_STEPS * step, step)
        # One early look catches a fast outlier, and lets the usual time learn a faster provider.
        if usual / 2 < first_close - step:
            yield usual / 2
        at = first_close
        while at <= usual + MARGIN_STEPS * step:
            yield at
            at += step
        # Much slower than usual: back off as the fixed schedule does, not one poll a step forever.
        at -= step
        for delay in sorted({d for d in self.poll_delays if d > step}):
            at += min(delay, self.poll_max)
            yield at
        while True:
            at += self._last_delay
            yield at
