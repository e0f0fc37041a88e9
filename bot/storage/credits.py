"""The last credits each provider reported, per owner: a user, or 0 for the operator's keys."""

from __future__ import annotations

from dataclasses import dataclass

OPERATOR = 0
"""The owner id under which credits of the operator's credentials are kept."""


@dataclass(frozen=True, slots=True)
class CreditRecord:
    """Credits left, as the provider last said, and when."""

    provider: str
    credits: int
    updated_at: float
