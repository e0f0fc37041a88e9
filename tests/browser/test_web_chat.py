"""The playground's web chat in a real browser: what a visitor sees and does, in demo mode."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

MENTION = "@iris_test_bot"


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A plain image of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def send(page: Page, text: str) -> None:
    """Type a message and press Enter."""
    box = page.locator("#composer-text")
    box.fill(text)
    box.press("Enter")


def attach(page: Page, name: str, data: bytes) -> None:
    """Pick a file with the 📎 picker."""
    page.locator("#file-input").set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": data}
    )


def test_imagine_shows_the_demo_picture_with_its_buttons_and_again_makes_another(
    page: Page,
) -> None:
    send(page, "/imagine a red fox --ar 16:9")
    result = page.locator(".message.bot").filter(has=page.locator("img.photo"))
    expect(result).to_have_count(1)
    expect(result.locator(".text")).to_contain_text("a red fox")
    expect(result.locator(".key", has_text="🔁")).to_be_visible()
    expect(result.locator(".key", has_text="📎")).to_be_visible()
    picture = result.locator("img.photo")
    expect(picture).to_have_js_property("complete", True)
    width, height = picture.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert abs(width / height - 16 / 9) < 0.01
    # The status message went away once the picture came.
    expect(page.locator(".message.bot", has_text="Generating")).to_have_count(0)
    screenshot(page, "imagine")

    result.locator(".key", has_text="📎").click()
    original = page.locator(".message.bot a.document")
    expect(original).to_have_count(1)
    with page.expect_download() as download:
        original.click()
    assert download.value.suggested_filename.endswith(".webp")

    result.locator(".key", has_text="🔁").click()
    expect(page.locator(".message.bot img.photo")).to_have_count(2)


def test_a_photo_is_described_and_a_reply_asks_a_follow_up(page: Page) -> None:
    attach(page, "sunset.png", png(320, 200, (230, 40, 40)))
    expect(page.locator("#attach-bar")).to_contain_text("sunset.png")
    page.locator("#composer-text").press("Enter")
    expect(page.locator(".message.user img.photo")).to_have_count(1)
    answer = page.locator(".message.bot", has_text="Demo answer")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("320×200")
    expect(answer).to_contain_text("red")

    answer.focus()
    page.keyboard.press("r")
    expect(page.locator("#reply-bar")).to_be_visible()
    send(page, "is it warm?")
    follow_up = page.locator(".message.bot", has_text="You asked: is it warm?")
    expect(follow_up).to_have_count(1)
    expect(follow_up.locator(".quote")).to_contain_text("You")
    screenshot(page, "describe")


def test_images_dropped_on_the_chat_go_as_an_album(page: Page) -> None:
    files = [
        ("one.png", base64.b64encode(png(40, 30, (240, 220, 50))).decode()),
        ("two.png", base64.b64encode(png(30, 40, (130, 60, 170))).decode()),
    ]
    page.evaluate(
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
    expect(page.locator("#attach-bar")).to_contain_text("one.png, two.png")
    send(page, "which is brighter?")
    album = page.locator(".message.user.album img.photo")
    expect(album).to_have_count(2)
    expect(page.locator(".message.bot", has_text="Demo answer").first).to_be_visible()


def test_in_the_group_a_plain_photo_gets_no_answer_and_a_mention_does(page: Page) -> None:
    page.locator(".chat-item", has_text="Playground group").click()
    expect(page.locator("#chat-title")).to_have_text("Playground group")
    page.locator("#speaker").select_option(label="Ana")
    group = page.locator(".pane:not([hidden])")

    attach(page, "plain.png", png(64, 64, (40, 90, 220)))
    page.locator("#composer-text").press("Enter")
    attach(page, "asked.png", png(80, 60, (50, 170, 70)))
    send(page, f"{MENTION} what is this?")
    answer = group.locator(".message.bot", has_text="Demo answer")
    expect(answer).to_contain_text("80×60")
    # Its status message is gone, and nothing else came: the plain photo got no answer.
    expect(group.locator(".message.bot")).to_have_count(1)
    expect(answer.locator(".quote")).to_contain_text("Ana")
    expect(group.locator(".message.user img.photo")).to_have_count(2)
    screenshot(page, "group")


def test_the_command_menu_follows_the_language_switch(page: Page) -> None:
    page.locator("#menu-button").click()
    expect(page.locator("#suggestions")).to_contain_text("/imagine")
    page.keyboard.press("Escape")
    page.locator("#language").select_option("es")
    page.wait_for_selector("body[data-menu-language='es']")
    page.locator("#composer-text").fill("/ima")
    page.locator("#composer-text").dispatch_event("input")
    suggestion = page.locator("#suggestions li", has_text="/imagine")
    expect(suggestion).to_have_count(1)
    english = re.compile("Generate an image")
    expect(suggestion).not_to_have_text(english)
    page.locator("#composer-text").press("Tab")
    expect(page.locator("#composer-text")).to_have_value("/imagine ")
