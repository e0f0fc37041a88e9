"""The bot and its updates: getMe, getUpdates (long polling), setWebhook, deleteWebhook,
getWebhookInfo."""

from __future__ import annotations

import re
from typing import Any

from playground.telegram.errors import CONFLICT, ApiError, bad
from playground.telegram.methods.base import Method
from playground.telegram.model import BOT_USER
from playground.telegram.state import State
from playground.telegram.wire import Files, Params, int_param


async def get_me(state: State, params: Params, files: Files) -> Any:
    """getMe."""
    return {
        **BOT_USER,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": state.inline_mode,
    }


async def delete_webhook(state: State, params: Params, files: Files) -> Any:
    """deleteWebhook, dropping pending updates if asked."""
    if params.get("drop_pending_updates") is True:
        state.pending.clear()
    state.webhook = state.webhook_secret = state.webhook_error = None
    return True


async def set_webhook(state: State, params: Params, files: Files) -> Any:
    """setWebhook: pending updates go to the URL from now on (playground.telegram.webhook)."""
    url = params.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise bad("bad webhook: an HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
        raise bad("secret token contains unallowed characters")
    if params.get("drop_pending_updates") is True:
        state.pending.clear()
    state.webhook, state.webhook_error = url, None
    state.webhook_secret = None if secret is None else str(secret)
    state.journal.changed()
    return True


async def get_webhook_info(state: State, params: Params, files: Files) -> Any:
    """getWebhookInfo: the URL, the updates waiting for it, and the last delivery failure."""
    info: dict[str, Any] = {
        "url": state.webhook or "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.pending),
    }
    if state.webhook_error is not None:
        info["last_error_date"], info["last_error_message"] = state.webhook_error
    return info


async def get_updates(state: State, params: Params, files: Files) -> Any:
    """getUpdates: confirms up to `offset`, waits up to `timeout` for one; a newer poll wins."""
    offset = int_param(params, "offset", 0)
    limit = min(max(int_param(params, "limit", 100), 1), 100)
    timeout = max(int_param(params, "timeout", 0), 0)
    if offset > 0:
        state.pending[:] = [u for u in state.pending if u["update_id"] >= offset]
    elif offset < 0:
        state.pending[:] = state.pending[offset:]
    state.poll_generation += 1
    generation = state.poll_generation
    state.polled.set()
    await state.journal.wait(
        lambda: bool(state.pending) or state.closing or state.poll_generation != generation,
        timeout,
    )
    if state.poll_generation != generation:
        raise ApiError(409, CONFLICT)
    return state.pending[:limit]


METHODS: dict[str, Method] = {
    "getMe": get_me,
    "deleteWebhook": delete_webhook,
    "setWebhook": set_webhook,
    "getWebhookInfo": get_webhook_info,
    "getUpdates": get_updates,
}
