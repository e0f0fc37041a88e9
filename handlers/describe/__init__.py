"""Describe photos: a photo or image file (caption = question), /describe as a reply to a photo,
and follow-up questions as replies to the bot's answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command

from bot.filters import PlainText
from handlers.describe.filters import (
    ImageToDescribe,
    IsReply,
    OncePerAlbum,
    OtherFileForBot,
    ReplyToBot,
)
from handlers.describe.requests import (
    describe_image,
    describe_reply,
    describe_usage,
    follow_up,
    not_an_image,
)


def create_router() -> Router:
    """The describe router; it comes last, after every command, as it takes any photo."""
    router = Router(name="describe")
    router.message.register(describe_image, ImageToDescribe(), OncePerAlbum())
    router.message.register(not_an_image, OtherFileForBot())
    router.message.register(describe_reply, Command("describe"), IsReply())
    router.message.register(describe_usage, Command("describe"))
    router.message.register(follow_up, PlainText(), ReplyToBot())
    return router
