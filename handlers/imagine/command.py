"""/imagine: check the prompt and options, pick the provider, start a generate job."""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.choices import GENERATE_ORDER, option_error_text, pick_provider
from bot.formatting import escape, is_blank
from bot.jobs.runner import JobRunner
from bot.keychain import KeyChain
from bot.options import OptionSyntaxError, parse_options
from bot.preferences import GENERATE_PROVIDER, option_defaults
from bot.providers import display_name
from bot.storage.jobs import JobKind, NewJob
from bot.storage.users import UserRecord
from bot.telegram import topic_of
from services.exceptions import InvalidOptionError
from services.registry import Providers


def imagine_usage() -> str:
    """How /imagine is written."""
    return "\n".join(
        [
            _("Describe the image after /imagine, for example:"),
            _("<code>/imagine a lighthouse at dawn, watercolor --ar 16:9</code>"),
            _("Options: --provider gptunnel|codexaeternum|ailuna, --ar (GPTunnel), "
              "--res, --style, --medium, --filter (AiLuna)."),
        ]
    )  # fmt: skip


def invalid_option_text(error: InvalidOptionError) -> str:
    """Which option value was refused, and the valid ones."""
    return _("{provider} does not accept --{option} {value}. Valid values: {valid}").format(
        provider=display_name(error.provider),
        option=escape(error.option),
        value=escape(error.value),
        valid=escape(", ".join(error.allowed) or "-"),
    )


async def imagine(
    message: Message,
    command: CommandObject,
    bot: Bot,
    keychain: KeyChain,
    providers: Providers,
    runner: JobRunner,
    user_record: UserRecord,
    i18n: I18n,
) -> None:
    """Check the prompt and options, pick the provider and a credential, start the job."""
    if message.from_user is None:
        return
    try:
        parsed = parse_options(command.args or "")
    except OptionSyntaxError as e:
        await message.reply(option_error_text(e) + "\n\n" + imagine_usage())
        return
    if is_blank(parsed.text):  # zero-width or direction marks alone describe nothing
        await message.reply(imagine_usage())
        return
    choice = await pick_provider(
        message,
        bot=bot,
        keychain=keychain,
        requested=parsed.provider,
        preferred=user_record.preferences.get(GENERATE_PROVIDER),
        order=GENERATE_ORDER,
        unsupported=_("I cannot generate with {name}. Choose one of: {valid}."),
    )
    if choice is None:
        return
    provider = choice.provider
    generator = providers.generators[provider]
    # The user's /settings defaults apply where the text gives nothing; the text wins.
    stored = option_defaults(user_record.preferences, provider, generator.options)
    try:
        options = generator.validate_options({**stored, **parsed.options})
    except InvalidOptionError as e:
        await message.reply(invalid_option_text(e))
        return
    await runner.enqueue(
        NewJob(
            kind=JobKind.GENERATE,
            provider=provider,
            user_id=message.from_user.id,
            chat_id=message.chat.id,
            chat_type=message.chat.type,
            request_message_id=message.message_id,
            thread_id=topic_of(message),
            prompt=parsed.text,
            options=options,
            input_file_id=None,
            credential_source=choice.source,
            language=i18n.current_locale,
        )
    )
