"""Describing photos through the real bot: private and group chats, files, errors, long answers."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.formatting import split_text
from playground.providers.codexaeternum import MAX_IMAGE_BYTES
from playground.telegram import ApiCall, Chat, Message, User
from tests.checks import photo_bytes, replied_to, text_has
from tests.conftest import Serve
from tests.harness import (
    ALICE,
    BOB,
    CODEX_EMAIL,
    CODEX_SECRET,
    DESCRIBE_APP_ID,
    GROUP,
    Iris,
    fill_quota,
    iris_running,
)

PHOTO = photo_bytes(seed=1)
DEFAULT_QUESTION = "Describe this image"
NOT_AN_IMAGE = "This file is not an image I can read. Send a JPEG, PNG or WebP."
PROGRESS = "🔎 Looking at the photo"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def to_chat(chat_id: int) -> Callable[[ApiCall], bool]:
    """Calls aimed at one chat."""
    return lambda call: int(call.params["chat_id"]) == chat_id


def payload(image: bytes, question: str, *, mime_type: str = "image/jpeg") -> dict[str, Any]:
    """The decrypted DescribePicture request the bot must send for one question."""
    return {
        "imageUrl": "",
        "imageBase64": base64.b64encode(image).decode("ascii"),
        "prompt": [{"role": "user", "text": question}],
        "mimeType": mime_type,
        "appId": DESCRIBE_APP_ID,
    }


async def answers(iris: Iris, chat_id: int, request: Message, *, after: int) -> list[Message]:
    """The bot's answer to `request`, once the job is delivered and its status message deleted."""

    def status_deleted(call: ApiCall) -> bool:
        message = iris.api.message(chat_id, int(call.params["message_id"]))
        return to_chat(chat_id)(call) and message.from_bot

    await iris.api.wait_for("deleteMessage", where=status_deleted, after=after)
    return [m for m in iris.api.bot_messages(chat_id) if m.message_id > request.message_id]


async def failure(iris: Iris, job_id: int, *, after: int) -> str:
    """The text a failed job left in its status message, once shown there."""
    await iris.api.wait_for(
        "editMessageText",
        where=lambda call: not str(call.params.get("text", "")).startswith(PROGRESS),
        after=after,
    )
    job = await iris.job(job_id)
    assert job.status_message_id is not None
    status = iris.api.message(job.chat_id, job.status_message_id)
    assert status.buttons == []  # the Cancel button is gone with the job
    assert status.text is not None
    return status.text


async def test_private_photo_is_described_as_a_reply(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "describepicture", DESCRIBE_APP_ID)
        mark = iris.api.mark()
        photo = iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO)
        status = await iris.api.wait_for("sendMessage", after=mark)
        assert "Looking at the photo with DescribePicture" in status.params["text"]
        assert replied_to(status) == photo.message_id
        [answer] = await answers(iris, ALICE.id, photo, after=mark)
        assert answer.text == f"A image/jpeg picture. You asked: {DEFAULT_QUESTION}"
        assert answer.reply_to_message_id == photo.message_id
        assert iris.describepicture.payloads == [payload(PHOTO, DEFAULT_QUESTION)]
        job = await iris.job(1)
        assert (job.state, job.provider, job.result_message_id) == (
            "done",
            "describepicture",
            answer.message_id,
        )
        assert job.status_message_id is not None
        assert iris.api.message(ALICE.id, job.status_message_id).deleted
        assert "typing" in iris.api.chat_actions(ALICE.id)


async def test_caption_is_the_question_and_provider_option_routes(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "describepicture", DESCRIBE_APP_ID)
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        mark = iris.api.mark()
        photo = iris.api.send_photo(
            ALICE, Chat.private(ALICE), PHOTO, caption="What breed is <this> dog?"
        )
        [answer] = await answers(iris, ALICE.id, photo, after=mark)
        assert answer.text == "A image/jpeg picture. You asked: What breed is <this> dog?"
        assert iris.describepicture.payloads == [payload(PHOTO, "What breed is <this> dog?")]
        mark = iris.api.mark()
        photo = iris.api.send_photo(
            ALICE, Chat.private(ALICE), PHOTO, caption="how old is it? --provider codexaeternum"
        )
        status = await iris.api.wait_for("sendMessage", after=mark)
        assert "Looking at the photo with CodexAeternum" in status.params["text"]
        [answer] = await answers(iris, ALICE.id, photo, after=mark)
        assert answer.text == "A mountain range at sunset."
        assert iris.codex.questions == ["how old is it?"]
        assert iris.codex.described == [PHOTO]
        assert len(iris.describepicture.payloads) == 1


async def test_bad_options_are_refused_before_any_request(serve: Serve, tmp_path: Path) -> None:
    valid = "describepicture, codexaeternum"
    refusals = [
        ("hi --provider gptunnel", f"I cannot describe with gptunnel. Choose one of: {valid}."),
        ("hi --provider NoSuch", f"I cannot describe with nosuch. Choose one of: {valid}."),
        ("hi --ar 16:9", "Describing takes only --provider describepicture|codexaeternum."),
        ("hi --provider", "Option --provider needs a value"),
    ]
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        for caption, reply in refusals:
            mark = iris.api.mark()
            photo = iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO, caption=caption)
            answer = await iris.reply(ALICE.id, after=mark)
            assert reply in answer.params["text"], caption
            assert replied_to(answer) == photo.message_id
        assert iris.describepicture.payloads == []
        assert await iris.app.storage.jobs.get(1) is None


async def test_image_files_are_described_and_other_files_are_refused(
    serve: Serve, tmp_path: Path
) -> None:
    png = photo_bytes(fmt="PNG", seed=2)
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        chat = Chat.private(ALICE)
        mark = iris.api.mark()
        document = iris.api.send_document(
            ALICE, chat, png, file_name="shot.png", mime_type="image/png"
        )
        [answer] = await answers(iris, ALICE.id, document, after=mark)
        assert answer.text == f"A image/png picture. You asked: {DEFAULT_QUESTION}"
        assert iris.describepicture.payloads == [
            payload(png, DEFAULT_QUESTION, mime_type="image/png")
        ]
        # A file that says it is not an image: told so at once, nothing is downloaded.
        mark = iris.api.mark()
        pdf = iris.api.send_document(
            ALICE, chat, PDF, file_name="report.pdf", mime_type="application/pdf"
        )
        refusal = await iris.reply(ALICE.id, after=mark)
        assert refusal.params["text"] == NOT_AN_IMAGE
        assert replied_to(refusal) == pdf.message_id
        # A file that claims to be a JPEG: found out from its bytes, before any provider call.
        mark = iris.api.mark()
        fake_jpeg = iris.api.send_document(
            ALICE, chat, PDF, file_name="fake.jpg", mime_type="image/jpeg"
        )
        assert await failure(iris, 2, after=mark) == NOT_AN_IMAGE
        assert (await iris.job(2)).error == "not_an_image"
        assert len(iris.describepicture.payloads) == 1
        assert [c.params["file_id"] for c in iris.api.calls_of("getFile")] == [
            document.document,
            fake_jpeg.document,
        ]


async def test_groups_describe_only_photos_meant_for_the_bot(serve: Serve, tmp_path: Path) -> None:
    bobs_photo = photo_bytes(seed=3)
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        mark = iris.api.mark()
        plain = iris.api.send_photo(BOB, GROUP, bobs_photo)
        iris.api.send_photo(BOB, GROUP, PHOTO, caption="look at this, iris")
        iris.api.send_document(BOB, GROUP, PDF, file_name="a.pdf", mime_type="application/pdf")
        await iris.say(BOB, "/help", chat=GROUP)
        help_reply = await iris.reply(GROUP.id, after=mark)
        assert "Hi! I'm Iris" in help_reply.params["text"]
        sent = [c for c in iris.api.calls[mark:] if c.method.startswith(("send", "edit"))]
        assert sent == [help_reply]
        assert iris.describepicture.payloads == []

        async def described(user: User, caption: str, question: str) -> None:
            mark = iris.api.mark()
            photo = iris.api.send_photo(user, GROUP, PHOTO, caption=caption)
            [answer] = await answers(iris, GROUP.id, photo, after=mark)
            assert answer.reply_to_message_id == photo.message_id
            assert iris.describepicture.payloads[-1] == payload(PHOTO, question)

        await described(ALICE, "@iris_test_bot what is this?", "what is this?")
        await described(ALICE, "/describe how many?", "how many?")
        await described(ALICE, "/describe@iris_test_bot", DEFAULT_QUESTION)
        # /describe as a reply to someone's photo describes that photo.
        mark = iris.api.mark()
        command = await iris.say(
            ALICE, "/describe what colour?", chat=GROUP, reply_to=plain.message_id
        )
        await answers(iris, GROUP.id, command, after=mark)
        assert iris.describepicture.payloads[-1] == payload(bobs_photo, "what colour?")
        # Without a photo to look at, /describe explains itself.
        mark = iris.api.mark()
        await iris.say(ALICE, "/describe", chat=GROUP)
        usage = await iris.reply(GROUP.id, after=mark)
        assert "reply to a photo with /describe" in usage.params["text"]
        assert len(iris.describepicture.payloads) == 4
        assert await iris.app.storage.jobs.get(5) is None


async def test_file_over_20_mb_is_refused(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        mark = iris.api.mark()
        big = b"\x89PNG\r\n\x1a\n" + bytes(21 * 1024 * 1024)
        iris.api.send_document(
            ALICE, Chat.private(ALICE), big, file_name="huge.png", mime_type="image/png"
        )
        reply = await iris.reply(ALICE.id, after=mark)
        assert "over 20 MB" in reply.params["text"]
        assert not iris.api.called("getFile")
        assert iris.describepicture.payloads == []
        assert await iris.app.storage.jobs.get(1) is None


async def test_provider_errors_are_short_and_keep_secrets(serve: Serve, tmp_path: Path) -> None:
    unknown_app_id = "app-id-nobody-knows-0123456789"
    async with iris_running(serve, tmp_path) as iris:
        fake = iris.describepicture

        def no_credits() -> None:
            fake.credits[DESCRIBE_APP_ID] = 0

        cases: list[tuple[Callable[[], None], str, str]] = [
            (
                lambda: fake.fail("QUOTA_EXCEEDED", status=429, message="quota exceeded"),
                "quota",
                "DescribePicture: the usage quota is used up. Try again later.",
            ),
            (
                lambda: fake.status(500),
                "unavailable",
                "DescribePicture is unavailable right now. Try again later.",
            ),
            (
                no_credits,
                "credits",
                "DescribePicture: your account is out of credits. Top it up and try again.",
            ),
        ]
        await iris.set_key(ALICE, "describepicture", DESCRIBE_APP_ID)
        for job_id, (arrange, code, expected) in enumerate(cases, start=1):
            arrange()
            mark = iris.api.mark()
            iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO)
            shown = await failure(iris, job_id, after=mark)
            assert shown == expected
            assert DESCRIBE_APP_ID not in shown
            job = await iris.job(job_id)
            assert (job.state, job.error) == ("failed", code)
            assert len(fake.payloads) == job_id  # one request each, never re-sent
        # The provider's own words echo an unknown appId: the user never sees them.
        await iris.set_key(BOB, "describepicture", unknown_app_id)
        mark = iris.api.mark()
        iris.api.send_photo(BOB, Chat.private(BOB), PHOTO)
        shown = await failure(iris, 4, after=mark)
        assert shown == "DescribePicture rejected your key. Set a new one with /setkey."
        assert (await iris.job(4)).error == "auth"
        assert fake.payloads[-1]["appId"] == unknown_app_id
        sent = " ".join(str(c.params.get("text", "")) for c in iris.api.calls[mark:])
        assert unknown_app_id not in sent


async def test_local_hourly_quota_refuses_before_sending(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        first = time.time() - 1800
        await fill_quota(iris, DESCRIBE_APP_ID, hits=100, first=first)
        frees = datetime.fromtimestamp(first + 3600, UTC).strftime("%H:%M")
        mark = iris.api.mark()
        iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO)
        shown = await failure(iris, 1, after=mark)
        assert shown == f"DescribePicture: the hourly quota is used up. It frees up at {frees} UTC."
        assert iris.describepicture.payloads == []
        job = await iris.job(1)
        assert (job.state, job.error) == ("failed", "quota")


async def test_long_answer_arrives_in_parts_cut_at_boundaries(serve: Serve, tmp_path: Path) -> None:
    paragraphs = [
        " ".join(f"Paragraph {p} sentence {s} tells more about the picture." for s in range(12))
        for p in range(16)
    ]
    answer = "\n\n".join(paragraphs)
    assert len(answer) > 10_000
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        iris.describepicture.respond({"answer": answer, "lastCredits": 99})
        mark = iris.api.mark()
        photo = iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO)
        parts = await answers(iris, ALICE.id, photo, after=mark)
        texts = [part.text or "" for part in parts]
        assert len(texts) == 3
        assert all(len(text) <= 4096 for text in texts)
        assert all(set(text.split("\n\n")) <= set(paragraphs) for text in texts)
        assert " ".join(texts).split() == answer.split()
        assert [part.reply_to_message_id for part in parts] == [photo.message_id, None, None]


def test_chinese_answer_is_cut_after_a_sentence_end() -> None:
    # Chinese puts no space after "。", so only the full stop itself marks the boundary.
    answer = "这张照片里有一只猫在窗台上晒太阳。" * 300
    parts = split_text(answer)
    assert [len(part) for part in parts] == [4096 - 4096 % 17, len(answer) - 4096 + 4096 % 17]
    assert all(part.endswith("。") for part in parts)
    assert "".join(parts) == answer


def test_sentence_end_right_at_the_limit_is_a_boundary() -> None:
    # The space after the full stop is just past the limit; the earlier space is a worse cut.
    answer = "a" * 2999 + " " + "b" * 1095 + ". " + "c" * 100
    assert split_text(answer) == ["a" * 2999 + " " + "b" * 1095 + ".", "c" * 100]


async def test_answer_is_escaped_for_html(serve: Serve, tmp_path: Path) -> None:
    answer = "A page with <script>alert('x')</script> & <b>bold</b> text &amp; more."
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        iris.describepicture.respond({"answer": answer, "lastCredits": 99})
        mark = iris.api.mark()
        photo = iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO)
        [message] = await answers(iris, ALICE.id, photo, after=mark)
        assert message.text == answer
        assert message.entities == ()
        sent = await iris.api.wait_for("sendMessage", where=text_has("script"), after=mark)
        assert "&lt;script&gt;" in sent.params["text"]


async def test_large_photo_gets_a_smaller_copy_and_a_notice(serve: Serve, tmp_path: Path) -> None:
    big = photo_bytes(1450, 1450, fmt="PNG", seed=4)  # noise does not compress: ~6.3 MB
    assert len(big) > MAX_IMAGE_BYTES
    async with iris_running(
        serve, tmp_path, codexaeternum_email=CODEX_EMAIL, codexaeternum_secret=CODEX_SECRET
    ) as iris:
        mark = iris.api.mark()
        document = iris.api.send_document(
            ALICE,
            Chat.private(ALICE),
            big,
            file_name="scan.png",
            mime_type="image/png",
            caption="--provider codexaeternum",
        )
        [answer] = await answers(iris, ALICE.id, document, after=mark)
        [sent] = iris.codex.described
        assert len(sent) <= MAX_IMAGE_BYTES
        assert answer.text == (
            "(The photo was too large for CodexAeternum, so it got a smaller copy.)\n\n"
            "A mountain range at sunset."
        )
