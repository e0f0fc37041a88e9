"""Button presses: answerCallbackQuery."""

from __future__ import annotations

from typing import Any

from playground.telegram.errors import QUERY_INVALID, bad
from playground.telegram.methods.base import Method
from playground.telegram.model import CallbackAnswer
from playground.telegram.state import State
from playground.telegram.wire import Files, Params


async def answer_callback_query(state: State, params: Params, files: Files) -> Any:
    """answerCallbackQuery: once per press."""
    query_id = str(params.get("callback_query_id", ""))
    if query_id not in state.open_queries:
        raise bad(QUERY_INVALID)
    state.open_queries.discard(query_id)
    text = params.get("text")
    url = params.get("url")
    state.answers[query_id] = CallbackAnswer(
        text=None if text is None else str(text),
        show_alert=params.get("show_alert") is True,
        url=None if url is None else str(url),
    )
    return True


METHODS: dict[str, Method] = {"answerCallbackQuery": answer_callback_query}
