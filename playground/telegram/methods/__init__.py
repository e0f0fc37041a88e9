"""The Bot API methods the emulator implements, by family."""

from __future__ import annotations

from playground.telegram.methods import (
    callbacks,
    chats,
    commands,
    editing,
    files,
    inline,
    sending,
    updates,
)
from playground.telegram.methods.base import Method

METHODS: dict[str, Method] = {
    **updates.METHODS,
    **sending.METHODS,
    **editing.METHODS,
    **files.METHODS,
    **commands.METHODS,
    **chats.METHODS,
    **callbacks.METHODS,
    **inline.METHODS,
}
"""Every implemented method by its name."""

__all__ = ["METHODS", "Method"]
