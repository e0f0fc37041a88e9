"""Inline mode: answerInlineQuery, once per query, its results checked as Telegram checks them."""

from __future__ import annotations

from typing import Any

from playground.telegram.errors import QUERY_INVALID, bad
from playground.telegram.inline import InlineAnswer, read_button, read_next_offset, read_results
from playground.telegram.methods.base import Method
from playground.telegram.state import State
from playground.telegram.wire import Files, Params, int_param


async def answer_inline_query(state: State, params: Params, files: Files) -> Any:
    """answerInlineQuery: the results, cache time, personal flag, next offset and button."""
    query = state.inline_queries.get(str(params.get("inline_query_id", "")))
    if query is None:
        raise bad(QUERY_INVALID)
    answer = InlineAnswer(
        query=query,
        results=read_results(params.get("results"), state.files),
        cache_time=int_param(params, "cache_time", 300),
        is_personal=params.get("is_personal") is True,
        next_offset=read_next_offset(params.get("next_offset")),
        button=read_button(params.get("button")),
    )
    del state.inline_queries[query.id]
    state.inline_answers[query.id] = answer
    return True


METHODS: dict[str, Method] = {"answerInlineQuery": answer_inline_query}
