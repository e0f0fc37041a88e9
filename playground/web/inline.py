"""Inline mode from the page: typing `@bot query` asks the bot, choosing a result posts it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from playground.telegram.inline import InlineResult
from playground.web.keys import API, CAST, number
from playground.web.view import file_url

_ANSWER_TIMEOUT = 10


def add_inline_routes(app: web.Application) -> None:
    """POST /api/inline (a query; the bot's answer) and /api/inline/choose (a result)."""
    app.router.add_post("/api/inline", _query)
    app.router.add_post("/api/inline/choose", _choose)


async def _query(request: web.Request) -> web.Response:
    body = await request.json()
    api = request.app[API]
    try:
        chat, user = request.app[CAST].speaker(number(body.get("chat")), number(body.get("user")))
        query_id = api.inline_query(
            user, chat, str(body.get("query", "")), offset=str(body.get("offset", ""))
        )
        answer = await api.answer_to(query_id, timeout=_ANSWER_TIMEOUT)
    except ValueError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    except TimeoutError:
        raise web.HTTPGatewayTimeout(text="the bot did not answer the inline query") from None
    button = answer.button
    return web.json_response(
        {
            "query_id": query_id,
            "results": [_result_view(result) for result in answer.results],
            "next_offset": answer.next_offset,
            "button": None
            if button is None
            else {"text": button.text, "start_parameter": button.start_parameter},
        }
    )


async def _choose(request: web.Request) -> web.Response:
    body = await request.json()
    try:
        _, user = request.app[CAST].speaker(number(body.get("chat")), number(body.get("user")))
        request.app[API].choose(user, str(body.get("query_id")), str(body.get("result_id")))
    except ValueError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    return web.json_response({"ok": True})


def _result_view(result: InlineResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "type": result.type,
        "title": result.title,
        "description": result.description,
        "text": result.text or result.caption,
        "thumb": file_url(result.photo_sizes[0]) if result.photo_sizes else None,
    }
