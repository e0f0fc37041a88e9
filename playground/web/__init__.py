"""The playground's web chat: plain HTML, CSS and JavaScript over a small JSON and SSE API."""

from playground.web.routes import web_chat

__all__ = ["web_chat"]
