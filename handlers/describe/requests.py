"""The ways to ask about a photo: the photo itself, /describe as a reply to it, a reply to the
bot's answer; each starts a describe job."""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.choices import DESCRIBE_ORDER, option_error_text, pick_provider
from bot.error_texts import code_text
from bot.formatting import is_blank
from bot.jobs.files import TELEGRAM_DOWNLOAD_LIMIT
from bot.jobs.runner import JobRunner
from bot.keychain import KeyChain
from bot.options import OptionSyntaxError, parse_options
from bot.preferences import DESCRIBE_PROVIDER
from bot.storage import Storage
from bot.storage.jobs import JobKind, NewJob
from bot.storage.users import UserRecord
from bot.telegram import topic_of
from handlers.describe.filters import is_image_document


def _image_file(message: Message) -> tuple[str, int | None] | None:
    """The file id and size of the message's photo (largest size) or image document."""
    if message.photo:
        largest = message.photo[-1]
        return largest.file_id, largest.file_size
    if message.document is not None and is_image_document(message):
        return message.document.file_id, message.document.file_size
    return None


async def describe_image(
    message: Message,
    question: str,
    album: bool,
    bot: Bot,
    keychain: KeyChain,
    runner: JobRunner,
    user_record: UserRecord,
    i18n: I18n,
) -> None:
    """A photo or image file: its caption is the question; of an album, only the first photo."""
    image = _image_file(message)
    assert image is not None
    started = await _start(
        message,
        image=image,
        question=question,
        preferred=user_record.preferences.get(DESCRIBE_PROVIDER),
        parent_id=None,
        bot=bot,
        keychain=keychain,
        runner=runner,
        i18n=i18n,
    )
    if started and album:
        await message.reply(
            _("Albums are described one photo at a time: this is the one I look at. "
              "Send the others on their own to hear about them.")
        )  # fmt: skip


async def describe_reply(
    message: Message,
    command: CommandObject,
    bot: Bot,
    keychain: KeyChain,
    runner: JobRunner,
    user_record: UserRecord,
    i18n: I18n,
) -> None:
    """/describe [question] as a reply to a photo: describe the replied-to photo."""
    target = message.reply_to_message
    assert target is not None
    image = _image_file(target)
    if image is None:
        await message.reply(_("Reply with /describe to a photo or an image file."))
        return
    await _start(
        message,
        image=image,
        question=command.args or "",
        preferred=user_record.preferences.get(DESCRIBE_PROVIDER),
        parent_id=None,
        bot=bot,
        keychain=keychain,
        runner=runner,
        i18n=i18n,
    )


async def follow_up(
    message: Message,
    bot: Bot,
    storage: Storage,
    keychain: KeyChain,
    runner: JobRunner,
    i18n: I18n,
) -> None:
    """A reply to the bot's answer about a photo: a further question about the same photo."""
    target = message.reply_to_message
    assert target is not None and message.text is not None
    earlier = await storage.jobs.by_message(message.chat.id, target.message_id)
    if earlier is None or earlier.kind is not JobKind.DESCRIBE or earlier.input_file_id is None:
        return  # a reply to some other message of the bot: nothing to follow up
    username = (await bot.me()).username or ""
    question = message.text.replace(f"@{username}", " ") if username else message.text
    await _start(
        message,
        image=(earlier.input_file_id, None),
        question=question,
        preferred=earlier.provider,  # the conversation stays with its provider unless told
        parent_id=earlier.id,
        bot=bot,
        keychain=keychain,
        runner=runner,
        i18n=i18n,
    )


async def not_an_image(message: Message) -> None:
    """A file that is not an image, sent to be described: say what it takes instead."""
    await message.reply(code_text("not_an_image", provider=""))


async def describe_usage(message: Message) -> None:
    """/describe with nothing to describe."""
    await message.reply(_("Send me a photo, or reply to a photo with /describe and your question."))


async def _start(
    request: Message,
    *,
    image: tuple[str, int | None],
    question: str,
    preferred: str | None,
    parent_id: int | None,
    bot: Bot,
    keychain: KeyChain,
    runner: JobRunner,
    i18n: I18n,
) -> bool:
    """Check the question and options, pick the provider, start the job; False if none started."""
    if request.from_user is None:
        return False
    file_id, size = image
    if size is not None and size > TELEGRAM_DOWNLOAD_LIMIT:
        await request.reply(
            _("This file is over 20 MB, the most Telegram lets me download. Send a smaller one.")
        )
        return False
    if size == 0:  # an empty file: nothing to download, nothing to pay for
        await request.reply(code_text("not_an_image", provider=""))
        return False
    try:
        parsed = parse_options(question)
    except OptionSyntaxError as e:
        await request.reply(option_error_text(e))
        return False
    if parsed.options:
        await request.reply(_("Describing takes only --provider describepicture|codexaeternum."))
        return False
    choice = await pick_provider(
        request,
        bot=bot,
        keychain=keychain,
        requested=parsed.provider,
        preferred=preferred,
        order=DESCRIBE_ORDER,
        unsupported=_("I cannot describe with {name}. Choose one of: {valid}."),
    )
    if choice is None:
        return False
    job = await runner.enqueue(
        NewJob(
            kind=JobKind.DESCRIBE,
            provider=choice.provider,
            user_id=request.from_user.id,
            chat_id=request.chat.id,
            chat_type=request.chat.type,
            request_message_id=request.message_id,
            thread_id=topic_of(request),
            # Zero-width characters alone ask nothing: the default question applies.
            prompt=_("Describe this image") if is_blank(parsed.text) else parsed.text,
            options={},
            input_file_id=file_id,
            credential_source=choice.source,
            language=i18n.current_locale,
            parent_id=parent_id,
        )
    )
    return job is not None
