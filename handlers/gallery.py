"""Placeholder: being written."""

from __future__ import annotations

from aiogram import Router


def create_router() -> Router:
    """The gallery router with its handlers."""
    return Router(name="gallery")
