"""The playground's web chat in a real browser: what a visitor sees and does, in demo mode."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image
from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot

MENTION = "@iris_test_bot"
pytestmark = pytest.mark.asyncio(loop_scope="session")


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A plain image of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


async def send(page: Page, text: str) -> None:
    """Type a message and press Enter."""
    box = page.locator("#composer-text")
    await box.fill(text)
    await box.press("Enter")


async def attach(page: Page, name: str, data: bytes) -> None:
    """Pick a file with the 📎 picker."""
    await page.locator("#file-input").set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": data}
    )


async def test_imagine_shows_the_demo_picture_with_its_buttons_and_again_makes_another(
    page: Page,
) -> None:
    await send(page, "/imagine a red fox --ar 16:9")
    result = page.locator(".message.bot").filter(has=page.locator("img.photo"))
    await expect(result).to_have_count(1)
    await expect(result.locator(".text")).to_contain_text("a red fox")
    await expect(result.locator(".key", has_text="🔁")).to_be_visible()
    await expect(result.locator(".key", has_text="📎")).to_be_visible()
    picture = result.locator("img.photo")
    await expect(picture).to_have_js_property("complete", True)
    width, height = await picture.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert abs(width / height - 16 / 9) < 0.01
    # The status message went away once the picture came.
    await expect(page.locator(".message.bot", has_text="Generating")).to_have_count(0)
    await screenshot(page, "imagine")
    light = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    await page.emulate_media(color_scheme="dark")
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") != light
    await screenshot(page, "imagine-dark")
    await page.emulate_media(color_scheme="light")

    await result.locator(".key", has_text="📎").click()
    original = page.locator(".message.bot a.document")
    await expect(original).to_have_count(1)
    async with page.expect_download() as download:
        await original.click()
    assert (await download.value).suggested_filename.endswith(".webp")

    await result.locator(".key", has_text="🔁").click()
    await expect(page.locator(".message.bot img.photo")).to_have_count(2)


async def test_a_photo_is_described_and_a_reply_asks_a_follow_up(page: Page) -> None:
    await attach(page, "sunset.png", png(320, 200, (230, 40, 40)))
    await expect(page.locator("#attach-bar")).to_contain_text("sunset.png")
    await page.locator("#composer-text").press("Enter")
    await expect(page.locator(".message.user img.photo")).to_have_count(1)
    answer = page.locator(".message.bot", has_text="Demo answer")
    await expect(answer).to_have_count(1)
    await expect(answer).to_contain_text("320×200")
    await expect(answer).to_contain_text("red")

    await answer.focus()
    await page.keyboard.press("r")
    await expect(page.locator("#reply-bar")).to_be_visible()
    await send(page, "is it warm?")
    follow_up = page.locator(".message.bot", has_text="You asked: is it warm?")
    await expect(follow_up).to_have_count(1)
    await expect(follow_up.locator(".quote")).to_contain_text("You")
    await screenshot(page, "describe")


async def test_images_dropped_on_the_chat_go_as_an_album(page: Page) -> None:
    files = [
        ("one.png", base64.b64encode(png(40, 30, (240, 220, 50))).decode()),
        ("two.png", base64.b64encode(png(30, 40, (130, 60, 170))).decode()),
    ]
    await page.evaluate(
        """(files) => {
            const dropped = new DataTransfer();
            for (const [name, data] of files) {
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                dropped.items.add(new File([bytes], name, { type: "image/png" }));
            }
            const chat = document.getElementById("chat");
            chat.dispatchEvent(new DragEvent("drop", { dataTransfer: dropped, bubbles: true }));
        }""",
        files,
    )
    await expect(page.locator("#attach-bar")).to_contain_text("one.png, two.png")
    await send(page, "which is brighter?")
    album = page.locator(".message.user.album img.photo")
    await expect(album).to_have_count(2)
    await expect(page.locator(".message.bot", has_text="Demo answer").first).to_be_visible()


async def test_in_the_group_a_plain_photo_gets_no_answer_and_a_mention_does(page: Page) -> None:
    await page.locator(".chat-item", has_text="Playground group").click()
    await expect(page.locator("#chat-title")).to_have_text("Playground group")
    await page.locator("#speaker").select_option(label="Ana")
    group = page.locator(".pane:not([hidden])")

    await attach(page, "plain.png", png(64, 64, (40, 90, 220)))
    await page.locator("#composer-text").press("Enter")
    await attach(page, "asked.png", png(80, 60, (50, 170, 70)))
    await send(page, f"{MENTION} what is this?")
    answer = group.locator(".message.bot", has_text="Demo answer")
    await expect(answer).to_contain_text("80×60")
    # Its status message is gone, and nothing else came: the plain photo got no answer.
    await expect(group.locator(".message.bot")).to_have_count(1)
    await expect(answer.locator(".quote")).to_contain_text("Ana")
    await expect(group.locator(".message.user img.photo")).to_have_count(2)
    await screenshot(page, "group")


async def test_the_command_menu_follows_the_language_switch(page: Page) -> None:
    await page.locator("#menu-button").click()
    await expect(page.locator("#suggestions")).to_contain_text("/imagine")
    await page.keyboard.press("Escape")
    await page.locator("#language").select_option("es")
    await page.wait_for_selector("body[data-menu-language='es']")
    await page.locator("#composer-text").fill("/ima")
    await page.locator("#composer-text").dispatch_event("input")
    suggestion = page.locator("#suggestions li", has_text="/imagine")
    await expect(suggestion).to_have_count(1)
    english = re.compile("Generate an image")
    await expect(suggestion).not_to_have_text(english)
    await page.locator("#composer-text").press("Tab")
    await expect(page.locator("#composer-text")).to_have_value("/imagine ")


async def test_inline_mode_lists_results_and_the_chosen_one_becomes_the_picture(
    page: Page,
) -> None:
    await page.locator(".chat-item", has_text="Playground group").click()
    box = page.locator("#composer-text")
    await box.fill(f"{MENTION} a blue whale")
    results = page.locator("#inline-results li")
    await expect(results.first).to_be_visible()
    await expect(page.locator("#inline-results")).to_contain_text("GPTunnel")
    await box.press("ArrowDown")
    await box.press("Enter")
    posted = page.locator(".pane:not([hidden]) .message", has_text="via @iris_test_bot")
    await expect(posted).to_have_count(1)
    await expect(posted.locator("img.photo")).to_be_visible()
    await expect(posted).to_contain_text("a blue whale")
    await screenshot(page, "inline")
