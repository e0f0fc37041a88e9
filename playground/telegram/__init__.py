"""An emulator of the Telegram Bot API over loopback HTTP: a real aiogram Bot talks to it, tests
and the benchmark play the users (see `FakeBotApi`)."""

from playground.telegram.emulator import CallHook, DownloadHook, FakeBotApi
from playground.telegram.errors import ApiError
from playground.telegram.inline import InlineAnswer, InlineResult, ResultsButton
from playground.telegram.limits import COUNTED_METHODS, Bucket, Limits, Rate
from playground.telegram.model import (
    BOT,
    BOT_ID,
    BOT_USER,
    Button,
    CallbackAnswer,
    Chat,
    Message,
    Topic,
    User,
)
from playground.telegram.pictures import Picture, PictureDecoder, decode_picture
from playground.telegram.text import EntitiesError, Entity, parse_html
from playground.telegram.wire import ApiCall, UploadedFile

__all__ = [
    "BOT",
    "BOT_ID",
    "BOT_USER",
    "COUNTED_METHODS",
    "ApiCall",
    "ApiError",
    "Bucket",
    "Button",
    "CallHook",
    "CallbackAnswer",
    "Chat",
    "DownloadHook",
    "EntitiesError",
    "Entity",
    "FakeBotApi",
    "InlineAnswer",
    "InlineResult",
    "Limits",
    "Message",
    "Picture",
    "PictureDecoder",
    "Rate",
    "ResultsButton",
    "Topic",
    "UploadedFile",
    "User",
    "decode_picture",
    "parse_html",
]
