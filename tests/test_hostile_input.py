"""Hostile and bad input through the real bot: prompts, files, albums, forged and stale buttons."""

from __future__ import annotations

import base64
import io
import random
from pathlib import Path

import pytest
from PIL import Image

from playground.telegram import BOT, Chat, FakeBotApi, Message, User
from tests.checks import photo_bytes, replied_to, text_has
from tests.conftest import Serve
from tests.harness import (
    ALICE,
    BOB,
    DESCRIBE_APP_ID,
    GPTUNNEL_KEY,
    GROUP,
    Iris,
    answer_of,
    iris_running,
    provider_requests,
    status_deleted,
)

USAGE = "Describe the image after /imagine"
CONFLICT = "Option --ar is given twice with different values: keep one."
MISSING = "Option --ar needs a value after it."
NOT_AN_IMAGE = "This file is not an image I can read. Send a JPEG, PNG or WebP."
TOO_BIG = "This file is over 20 MB, the most Telegram lets me download. Send a smaller one."
ALBUM_NOTICE = "Albums are described one photo at a time"
DEFAULT_QUESTION = "Describe this image"
PROGRESS = "🔎 Looking at the photo"
STALE = "This button is no longer valid."
SOMETHING_WRONG = "Something went wrong"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ANONYMOUS = "I cannot tell who you are when you post anonymously or as a channel."
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
GROUP_ANONYMOUS_BOT_ID = 1087968824
GROUP_ANONYMOUS_BOT = {
    "id": GROUP_ANONYMOUS_BOT_ID,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
"""Who Telegram says sent a message that an anonymous group admin sent."""


def assert_no_failure(iris: Iris) -> None:
    """Nothing surprised the fake Bot API, and no user was told something went wrong."""
    assert iris.api.errors == []
    said = [str(c.params.get("text", "")) for c in iris.api.calls]
    assert not any(SOMETHING_WRONG in text for text in said)


# --- prompts -----------------------------------------------------------------------------------

LONG_PROMPT = ("a fox & <b>hound</b> *bold* _x_ " * 200)[:5000]
MIXED_SCRIPTS = "👩‍👩‍👧 a family \u200bportrait صورة عائلية \u202eevil\u202c 猫"
HTML = '<b>bold</b> </i> <a href="https://evil.example/">click</a> &amp; &lt;tg-spoiler>'
MARKDOWN = "*bold* _x_ `code` [link](https://evil.example) ~strike~ ||spoiler||"
INJECTION = "{0} {provider} %s %(x)s '); DROP TABLE jobs; --"


@pytest.mark.parametrize(
    ("args", "reply"),
    [
        ("", USAGE),
        ("   \t  ", USAGE),
        ("\u200b\u200c\u2060\ufeff", USAGE),
        ("\u202e\u200f --ar 16:9", USAGE),
        ("a cat --ar 1:1 --ar 16:9", CONFLICT),
        ("a cat --ar", MISSING),
    ],
    ids=[
        "empty",
        "whitespace",
        "zero-width-only",
        "direction-marks-only",
        "contradictory",
        "no-value",
    ],
)
async def test_prompt_without_content_or_with_bad_options_gets_a_usage_reply(
    serve: Serve, tmp_path: Path, args: str, reply: str
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        mark = iris.api.mark()
        request = await iris.say(ALICE, f"/imagine {args}".rstrip(" "))
        answer = await iris.reply(ALICE.id, after=mark)
        assert reply in answer.params["text"]
        assert answer.error is None
        assert replied_to(answer) == request.message_id
        await iris.say(BOB, "/help")  # a later update, so a late job would show by now
        await iris.reply(BOB.id, after=mark)
        assert iris.gptunnel.tasks == {}
        assert await iris.app.storage.jobs.get(1) is None
        assert_no_failure(iris)


@pytest.mark.parametrize(
    ("args", "prompt", "ratio"),
    [
        (MIXED_SCRIPTS, MIXED_SCRIPTS, "1:1"),
        (HTML, HTML, "1:1"),
        (MARKDOWN, MARKDOWN, "1:1"),
        (INJECTION, INJECTION, "1:1"),
        ("a   cat\n\non a mat --ar 16:9 —AR 16:9", "a cat on a mat", "16:9"),
        (LONG_PROMPT, " ".join(LONG_PROMPT.split()), "1:1"),
    ],
    ids=["emoji-rtl-zero-width", "html", "markdown", "format-and-sql", "repeated-option", "5000"],
)
async def test_prompt_reaches_the_provider_and_the_caption_shows_it_escaped(
    serve: Serve, tmp_path: Path, args: str, prompt: str, ratio: str
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        mark = iris.api.mark()
        await iris.say(ALICE, f"/imagine {args}")
        photo = await iris.api.wait_for("sendPhoto", after=mark)
        assert photo.error is None  # Telegram parsed the caption: no markup slipped through
        assert [(t.prompt, t.ar) for t in iris.gptunnel.tasks.values()] == [(prompt, ratio)]
        await status_deleted(iris, ALICE.id, after=mark)
        job = await iris.job(1)
        assert (job.state, job.prompt) == ("done", prompt)
        delivered = iris.api.message(ALICE.id, job.result_message_id or 0)
        caption = delivered.caption or ""
        shown, _, footer = caption.partition("\n")
        assert footer == f"GPTunnel · --ar {ratio}"
        assert [e.type for e in delivered.entities] == ["italic"]  # only the bot's own markup
        if len(prompt) + len(footer) < 1000:
            assert shown == prompt
        else:
            assert len(caption) <= 1024
            assert shown.endswith("…")
            assert prompt.startswith(shown.removesuffix("…"))
        assert_no_failure(iris)


# --- files to describe -------------------------------------------------------------------------


def animation(fmt: str) -> bytes:
    """Three frames, red then green then blue."""
    frames = [Image.new("RGB", (32, 24), color) for color in (RED, GREEN, BLUE)]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def png_with_alpha() -> bytes:
    """A PNG whose alpha channel really is used: half of it is transparent."""
    image = Image.new("RGBA", (40, 30), (*BLUE, 255))
    image.paste((*RED, 0), (0, 0, 20, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def strip_png() -> bytes:
    """A 20000x20 image: a ratio of 1000:1."""
    out = io.BytesIO()
    Image.new("RGB", (20000, 20), GREEN).save(out, "PNG")
    return out.getvalue()


def corrupted_jpeg() -> bytes:
    """A JPEG's header, then garbage where the picture should be."""
    good = photo_bytes(320, 240, seed=7)
    scan = good.index(b"\xff\xda")
    return good[: scan + 20] + random.Random(7).randbytes(20_000)


def sent_image(iris: Iris) -> tuple[Image.Image, str]:
    """The image the one DescribePicture request carried, decoded, and its declared type."""
    [payload] = iris.describepicture.payloads
    image = Image.open(io.BytesIO(base64.b64decode(payload["imageBase64"])))
    return image, str(payload["mimeType"])


async def described(iris: Iris, request: Message, *, after: int) -> str:
    """The answer's text once the job delivered it (the status message is then deleted)."""
    answer = await iris.api.wait_for(
        "sendMessage", where=lambda c: replied_to(c) == request.message_id and
        "You asked:" in str(c.params["text"]), after=after,
    )  # fmt: skip
    await status_deleted(iris, request.chat_id, after=after)
    return str(answer.params["text"])


async def failure(iris: Iris, job_id: int, *, after: int) -> str:
    """The text a failed job left in its status message."""
    await iris.api.wait_for(
        "editMessageText",
        where=lambda call: not str(call.params.get("text", "")).startswith(PROGRESS),
        after=after,
    )
    job = await iris.job(job_id)
    assert job.status_message_id is not None
    text = iris.api.message(job.chat_id, job.status_message_id).text
    assert text is not None
    return text


@pytest.mark.parametrize(
    ("data", "file_name", "mime_type", "sent_as", "alpha"),
    [
        (animation("GIF"), "dance.gif", "image/gif", ("image/jpeg", "image/png"), False),
        (
            animation("WEBP"),
            "dance.webp",
            "image/webp",
            ("image/jpeg", "image/png", "image/webp"),
            False,
        ),
        (png_with_alpha(), "logo.png", "image/png", ("image/png",), True),
        (strip_png(), "panorama.png", "image/png", ("image/png", "image/jpeg"), False),
        (photo_bytes(seed=3), "photo.jpg", "application/octet-stream", ("image/jpeg",), False),
    ],
    ids=["animated-gif", "animated-webp", "png-alpha", "20000x20", "jpeg-as-octet-stream"],
)
async def test_real_images_are_described_from_their_first_frame(
    serve: Serve,
    tmp_path: Path,
    data: bytes,
    file_name: str,
    mime_type: str,
    sent_as: tuple[str, ...],
    alpha: bool,
) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        mark = iris.api.mark()
        request = iris.api.send_document(
            ALICE, Chat.private(ALICE), data, file_name=file_name, mime_type=mime_type
        )
        answer = await described(iris, request, after=mark)
        image, declared = sent_image(iris)
        assert declared in sent_as
        assert answer.endswith(f"A {declared} picture. You asked: {DEFAULT_QUESTION}")
        assert Image.MIME[image.format or ""] == declared
        assert image.size == Image.open(io.BytesIO(data)).size
        if file_name.startswith("dance"):
            assert image.convert("RGB").getpixel((16, 12)) == pytest.approx(RED, abs=8)
        assert ("A" in image.getbands()) == alpha
        assert_no_failure(iris)


@pytest.mark.parametrize(
    ("data", "file_name", "mime_type"),
    [
        (corrupted_jpeg(), "photo.jpg", "image/jpeg"),
        (PDF, "photo.jpg", "image/jpeg"),
        (PDF, "photo.jpg", "application/pdf"),
    ],
    ids=["corrupted-jpeg", "pdf-declared-jpeg", "pdf-named-jpg"],
)
async def test_files_that_are_no_image_are_found_out_before_any_provider_call(
    serve: Serve, tmp_path: Path, data: bytes, file_name: str, mime_type: str
) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        mark = iris.api.mark()
        iris.api.send_document(
            ALICE, Chat.private(ALICE), data, file_name=file_name, mime_type=mime_type
        )
        assert await failure(iris, 1, after=mark) == NOT_AN_IMAGE
        assert (await iris.job(1)).error == "not_an_image"
        assert iris.describepicture.payloads == []
        assert provider_requests(iris) == 0
        assert_no_failure(iris)


@pytest.mark.parametrize(
    ("data", "reply"),
    [(b"", NOT_AN_IMAGE), (b"\xff\xd8\xff\xe0" + bytes(30 * 1024 * 1024), TOO_BIG)],
    ids=["zero-bytes", "30-MB"],
)
async def test_empty_and_oversized_files_are_refused_before_any_download(
    serve: Serve, tmp_path: Path, data: bytes, reply: str
) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        mark = iris.api.mark()
        request = iris.api.send_document(
            ALICE, Chat.private(ALICE), data, file_name="photo.jpg", mime_type="image/jpeg"
        )
        answer = await iris.reply(ALICE.id, after=mark)
        assert answer.params["text"] == reply
        assert replied_to(answer) == request.message_id
        assert not iris.api.called("getFile")
        assert iris.api.downloads == []
        assert await iris.app.storage.jobs.get(1) is None
        assert provider_requests(iris) == 0
        assert_no_failure(iris)


async def test_an_album_is_described_once_from_its_captioned_first_photo(
    serve: Serve, tmp_path: Path
) -> None:
    photos = [photo_bytes(seed=seed) for seed in range(10)]
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        chat = Chat.private(ALICE)
        for caption, question in (("which is bluest?", "which is bluest?"), (None, None)):
            mark = iris.api.mark()
            album = iris.api.send_media_group(ALICE, chat, photos, caption=caption)
            answer = await described(iris, album[0], after=mark)
            assert answer.endswith(f"You asked: {question or DEFAULT_QUESTION}")
            notice = await iris.api.wait_for(
                "sendMessage", where=text_has(ALBUM_NOTICE), after=mark
            )
            assert replied_to(notice) == album[0].message_id
            await iris.say(BOB, "/help")  # every photo of the album was handled before this
            await iris.reply(BOB.id, after=mark)
            notices = [c for c in iris.api.calls[mark:] if text_has(ALBUM_NOTICE)(c)]
            assert len(notices) == 1
        payloads = iris.describepicture.payloads
        assert [p["imageBase64"] for p in payloads] == [base64.b64encode(photos[0]).decode()] * 2
        assert len(iris.api.calls_of("getFile")) == 2
        assert await iris.app.storage.jobs.get(3) is None
        assert_no_failure(iris)


async def test_a_group_album_is_described_once_and_only_when_meant_for_the_bot(
    serve: Serve, tmp_path: Path
) -> None:
    photos = [photo_bytes(seed=seed) for seed in range(10)]
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        mark = iris.api.mark()
        iris.api.send_media_group(BOB, GROUP, photos, caption="our holiday!")
        await iris.say(BOB, "/help", chat=GROUP)
        help_reply = await iris.reply(GROUP.id, after=mark)
        sent = [c for c in iris.api.calls[mark:] if c.method.startswith(("send", "edit"))]
        assert sent == [help_reply]  # an album not meant for the bot: silence

        mark = iris.api.mark()
        album = iris.api.send_media_group(BOB, GROUP, photos, caption="@iris_test_bot which dog?")
        answer = await described(iris, album[0], after=mark)
        assert answer.endswith("You asked: which dog?")
        await iris.say(BOB, "/help", chat=GROUP)
        await iris.api.wait_for("sendMessage", where=text_has("Hi! I'm Iris"), after=mark)
        assert len(iris.describepicture.payloads) == 1
        assert await iris.app.storage.jobs.get(2) is None
        assert_no_failure(iris)


# --- messages on behalf of a chat --------------------------------------------------------------


def anonymously(api: FakeBotApi) -> None:
    """The message just sent arrives as an anonymous admin's: on behalf of the group."""
    update = api.state.pending[-1]["message"]
    update["from"] = GROUP_ANONYMOUS_BOT
    update["sender_chat"] = {"id": GROUP.id, "type": GROUP.type, "title": GROUP.title}


async def test_anonymous_admins_are_asked_to_post_as_themselves(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(
        serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, describepicture_app_id=DESCRIBE_APP_ID
    ) as iris:
        iris.api.add_member(GROUP, BOT, "administrator")
        for text in (
            "/imagine a cat",
            "/language",
            "/describe@iris_test_bot",
            f"/setkey gptunnel {GPTUNNEL_KEY}",
            "hey @iris_test_bot, draw me",
        ):
            mark = iris.api.mark()
            request = iris.api.send_text(ALICE, GROUP, text)
            anonymously(iris.api)
            reply = await iris.reply(GROUP.id, after=mark)
            assert str(reply.params["text"]).startswith(ANONYMOUS), text
            assert replied_to(reply) == request.message_id
        assert iris.api.message(GROUP.id, request.message_id - 1).deleted  # the /setkey
        mark = iris.api.mark()
        photo = iris.api.send_photo(ALICE, GROUP, photo_bytes(), caption="@iris_test_bot what?")
        anonymously(iris.api)
        reply = await iris.reply(GROUP.id, after=mark)
        assert replied_to(reply) == photo.message_id
        # Not meant for the bot: silence, as for anyone.
        mark = iris.api.mark()
        for text in ("just chatting", "/imagine@other_bot a dog"):
            iris.api.send_text(ALICE, GROUP, text)
            anonymously(iris.api)
        iris.api.send_photo(ALICE, GROUP, photo_bytes(), caption="our cat")
        anonymously(iris.api)
        await iris.say(BOB, "/help", chat=GROUP)
        help_reply = await iris.reply(GROUP.id, after=mark)
        assert [c for c in iris.api.calls[mark:] if c.method.startswith("send")] == [help_reply]
        assert provider_requests(iris) == 0
        assert not iris.api.called("getFile")
        assert await iris.app.storage.jobs.get(1) is None
        assert await iris.app.storage.credentials.masked(GROUP_ANONYMOUS_BOT_ID) == {}
        assert_no_failure(iris)


# --- forged and stale buttons ------------------------------------------------------------------


async def _finished_job(
    iris: Iris, user: User, prompt: str, *, chat: Chat | None = None
) -> Message:
    """A delivered GPTunnel result of the user's; its message, buttons included."""
    mark = iris.api.mark()
    await iris.say(user, f"/imagine {prompt}", chat=chat)
    await iris.api.wait_for("sendPhoto", after=mark)
    chat_id = (chat or Chat.private(user)).id
    await status_deleted(iris, chat_id, after=mark)
    return next(m for m in reversed(iris.api.bot_messages(chat_id)) if m.photo)


TAMPERED = [
    "job:cancel:abc:",
    "job:cancel:999999999999999999999:",
    "job:cancel:-1:",
    "job:cancel:0:",
    "job:nope:1:",
    "job:cancel:1",
    "job:again:1:" + "x" * 300,
    "job:ratio:1:5x4",
    "job:ratio:1:16:9",
    "job:fav:1:1",
    "job:retry:1:",
    "job:cancel:4242:",
    "job::::",
    "garbage",
    "🙂" * 40,
    "key:zap:gptunnel",
    "key:del:openai",
    "key:add:" + "x" * 100,
    "set:pick:ar:5x4",
    "set:pick:gen:openai",
    "set:open:nosuch:",
    "lang:fr",
    "gal:0:0:n:0",
    "img:o:1:0:0:0:1:n:0",
]
"""Data no button of the bot carries: each must be refused, and change nothing."""


async def test_tampered_button_data_is_refused_politely_and_changes_nothing(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        result = await _finished_job(iris, ALICE, "a lighthouse")
        before = await iris.job(1)
        user_before = await iris.app.storage.users.get(ALICE.id)
        requests, mark = provider_requests(iris), iris.api.mark()
        for data in TAMPERED:
            answer = await answer_of(iris, iris.api.press_data(ALICE, result, data))
            expected = "This job was already retried or finished." if "retry" in data else STALE
            assert answer == expected, data
        assert await iris.job(1) == before
        assert await iris.app.storage.jobs.get(2) is None
        assert await iris.app.storage.users.get(ALICE.id) == user_before
        assert await iris.app.storage.credentials.masked(ALICE.id) == {}
        assert provider_requests(iris) == requests
        said = [c.method for c in iris.api.calls[mark:] if c.method not in ("getUpdates",)]
        assert set(said) == {"answerCallbackQuery"}  # no message sent, edited or deleted
        assert_no_failure(iris)


async def test_buttons_of_a_deleted_or_unknown_job_are_stale(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        result = await _finished_job(iris, ALICE, "a lighthouse")
        again = next(b.callback_data for b in result.buttons if b.text == "🔁 Again")
        assert again is not None
        await iris.app.storage.db.execute("DELETE FROM jobs WHERE id = ?", (1,))
        requests, mark = provider_requests(iris), iris.api.mark()
        assert await answer_of(iris, iris.api.press(ALICE, result, again)) == STALE
        never = again.replace(":1:", ":77:")
        assert await answer_of(iris, iris.api.press_data(ALICE, result, never)) == STALE
        original = next(b.callback_data for b in result.buttons if b.text == "📎 Original file")
        assert original is not None
        answer = await answer_of(iris, iris.api.press(ALICE, result, original))
        assert answer == "The original file is no longer available."
        assert provider_requests(iris) == requests
        assert await iris.app.storage.jobs.get(2) is None
        assert not any(c.method.startswith("send") for c in iris.api.calls[mark:])
        assert_no_failure(iris)


async def test_buttons_in_the_wrong_chat_are_refused(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.api.add_member(GROUP, ALICE)
        group_result = await _finished_job(iris, ALICE, "a castle", chat=GROUP)
        private_result = await _finished_job(iris, ALICE, "a moat")
        requests = provider_requests(iris)
        # Alice's group job through a button in her private chat, and the other way round.
        for message, data in (
            (private_result, "job:again:1:"),
            (private_result, "job:orig:1:"),
            (group_result, "job:again:2:"),
            (group_result, "key:del:gptunnel"),
            (group_result, "set:pick:ar:16x9"),
            (group_result, "gal:1:0:n:0"),
        ):
            answer = await answer_of(iris, iris.api.press_data(ALICE, message, data))
            assert answer in (STALE, "The original file is no longer available."), data
        assert provider_requests(iris) == requests
        assert await iris.app.storage.jobs.get(3) is None
        user = await iris.app.storage.users.get(ALICE.id)
        assert user is not None
        assert user.preferences == {}
        assert_no_failure(iris)
