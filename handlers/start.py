"""/start and /help: what the bot does, its commands, and which providers the user can use."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.choices import KEYS_DEEP_LINK
from bot.formatting import escape
from bot.keychain import KeyChain
from bot.providers import PROVIDERS
from handlers.keys.private import show_keys


async def start_keys(message: Message, keychain: KeyChain, bot: Bot) -> None:
    """The `keys` deep link: straight to key setup (private chats only)."""
    if message.chat.type != ChatType.PRIVATE or message.from_user is None:
        await help_text(message, keychain, bot)
        return
    await show_keys(message, keychain, user_id=message.from_user.id)


async def help_text(message: Message, keychain: KeyChain, bot: Bot) -> None:
    """What the bot does, its commands and the user's providers."""
    if message.from_user is None:
        return
    username = (await bot.me()).username or "bot"
    sources = await keychain.sources(message.from_user.id)
    lines = [
        _("Hi! I'm Iris. I make images from text and describe photos."),
        "",
        _("<b>Generate</b>: /imagine a red fox in the snow --ar 16:9"),
        _(
            "<b>In any chat</b>: type @{bot} a red fox, then choose a result to generate it there "
            "or to share one of your recent images."
        ).format(bot=escape(username)),
        _("<b>Describe</b>: send me a photo, with a question as its caption if you like."),
        _("In groups, mention me in the caption or reply to a photo with /describe."),
        _("Reply to my answer to ask more about the same photo."),
        "",
        _("/settings — default providers, ratio, style, language (private chat)"),
        _("/gallery — your AiLuna images (private chat)"),
        _("/keys — your provider keys (private chat)"),
        _("/setkey provider key — add a key (private chat)"),
        _("/delkey provider — remove a key (private chat)"),
        _("/tasks — your running jobs"),
        _("/balance — credits and quota"),
        _("/language — choose the language"),
        _("/help — this message"),
        "",
        _("<b>Your providers</b>"),
    ]
    for provider in PROVIDERS:
        name = provider.display_name
        source = sources.get(provider.id)
        if source == "own":
            lines.append(_("✅ {provider}: your key").format(provider=name))
        elif source == "operator":
            lines.append(_("🔸 {provider}: the bot's shared key").format(provider=name))
        else:
            lines.append(_("▫️ {provider}: no key").format(provider=name))
    await message.answer("\n".join(lines))


def create_router() -> Router:
    """The start router with its handlers."""
    router = Router(name="start")
    router.message.register(
        start_keys, CommandStart(deep_link=True, magic=F.args == KEYS_DEEP_LINK)
    )
    router.message.register(help_text, CommandStart())
    router.message.register(help_text, Command("help"))
    return router
