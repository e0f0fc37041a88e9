"""A loopback fake of GPTunnel's media API and of the storage host its result links point at."""

from playground.providers.gptunnel.fake import API_KEY, GPTunnelFake
from playground.providers.gptunnel.outcomes import (
    Outcome,
    cut,
    hang,
    html_page,
    huge,
    malformed,
    refuse,
    reply,
    truncated,
)

__all__ = [
    "API_KEY",
    "GPTunnelFake",
    "Outcome",
    "cut",
    "hang",
    "html_page",
    "huge",
    "malformed",
    "refuse",
    "reply",
    "truncated",
]
