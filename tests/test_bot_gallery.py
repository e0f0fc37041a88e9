"""/gallery through the real bot: paging in place, search, filters, cards, rename, delete."""

from __future__ import annotations

from pathlib import Path

from aiogram.fsm.storage.base import StorageKey
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.gallery.callbacks import GalleryAction, GalleryButton, GalleryView
from handlers.gallery.states import GalleryStates
from playground.providers.ailuna import KEY_ALICE, KEY_BOB, Canned
from playground.providers.server import RecordedRequest
from playground.telegram import ApiCall, Message, User
from tests.conftest import Serve
from tests.harness import ALICE, BOB, GROUP, Iris, iris_running

LIST = "/api/v1/images"
NEWEST = {"sort_by": "id", "sort": "desc", "per_page": "10"}
GONE = "AiLuna no longer has this result."
STALE = "This button is no longer valid."
CARD_BUTTONS = ["⭐ Add to favorites", "✏️ Rename", "🗑 Delete", "↩️ Back to the list"]


def ailuna_since(iris: Iris, start: int) -> list[RecordedRequest]:
    """The requests AiLuna received since `start` of them."""
    return iris.servers["ailuna"].requests[start:]


def count(iris: Iris) -> int:
    """How many requests AiLuna has received."""
    return len(iris.servers["ailuna"].requests)


def shapes(requests: list[RecordedRequest]) -> list[tuple[str, str]]:
    """Method and path of each request."""
    return [(r.method, r.path) for r in requests]


def current(iris: Iris, message: Message) -> Message:
    """A bot message as the user sees it now."""
    return iris.api.message(message.chat_id, message.message_id)


def items(message: Message) -> list[str]:
    """The labels of the image buttons of a list."""
    return [b.text for b in message.buttons if (b.callback_data or "").startswith("img:")]


def controls(message: Message) -> list[str]:
    """The labels of the paging, filter and sort buttons of a list."""
    return [b.text for b in message.buttons if (b.callback_data or "").startswith("gal:")]


def texts(message: Message) -> list[str]:
    """Every button label of a message."""
    return [b.text for b in message.buttons]


def sends_to(iris: Iris, chat_id: int, method: str = "sendMessage") -> list[ApiCall]:
    """The bot's calls of `method` aimed at one chat."""
    return [c for c in iris.api.calls_of(method) if int(c.params["chat_id"]) == chat_id]


async def gallery(iris: Iris, user: User, text: str = "/gallery") -> Message:
    """The user sends /gallery (or `text`); the list message the bot answered with."""
    mark = iris.api.mark()
    await iris.say(user, text)
    await iris.reply(user.id, after=mark)
    return iris.api.bot_messages(user.id)[-1]


async def press(iris: Iris, user: User, message: Message, label: str) -> str | None:
    """The user presses a button; the answer's text, once answered (handlers answer last)."""
    now = current(iris, message)
    found = [b.callback_data for b in now.buttons if b.text == label]
    assert found, f"no button {label!r} in {texts(now)}"
    assert found[0] is not None
    return await press_data(iris, user, now, found[0])


async def press_data(iris: Iris, user: User, message: Message, data: str) -> str | None:
    """The user presses the button with this data; returns the answer's text."""
    query = iris.api.press(user, message, data)
    await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
    answer = iris.api.answers(query)
    assert answer is not None
    return answer.text


async def crafted(iris: Iris, user: User, data: str) -> Message:
    """A bot message in the user's chat with a button of this data, as a forging client makes."""
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="forged", callback_data=data)]]
    )
    sent = await iris.app.bot.send_message(user.id, "a crafted button", reply_markup=keyboard)
    return iris.api.message(user.id, sent.message_id)


async def open_card(iris: Iris, user: User, listing: Message, label: str) -> Message:
    """Press an image of the list; its card (a photo message)."""
    mark = iris.api.mark()
    assert await press(iris, user, listing, label) is None
    await iris.api.wait_for("sendPhoto", after=mark)
    card = iris.api.bot_messages(user.id)[-1]
    assert card.photo is not None
    return card


async def rename_state(iris: Iris, user: User) -> str | None:
    """The user's FSM state in their private chat."""
    key = StorageKey(bot_id=iris.app.bot.id, chat_id=user.id, user_id=user.id)
    return await iris.app.dispatcher.storage.get_state(key)


# --- the list ----------------------------------------------------------------------------------


async def test_pages_move_in_place_asking_for_the_right_page(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        for n in range(1, 26):
            iris.ailuna.add(KEY_ALICE, f"Picture {n:02d}", favorite=n == 25)
        iris.ailuna.add(KEY_BOB, "Bob's secret")
        start = count(iris)
        listing = await gallery(iris, ALICE)
        assert listing.text is not None
        assert "Your AiLuna images" in listing.text
        assert "Page 1 of 3" in listing.text
        assert items(listing) == ["⭐ Picture 25"] + [f"Picture {n:02d}" for n in range(24, 15, -1)]
        assert controls(listing) == ["Next ▶️", "⭐ Favorites only", "↕️ Newest first"]
        sent = len(sends_to(iris, ALICE.id))

        await press(iris, ALICE, listing, "Next ▶️")
        page2 = current(iris, listing)
        assert page2.text is not None
        assert "Page 2 of 3" in page2.text
        assert items(page2) == [f"Picture {n:02d}" for n in range(15, 5, -1)]
        assert controls(page2)[:2] == ["◀️ Previous", "Next ▶️"]

        await press(iris, ALICE, listing, "Next ▶️")
        page3 = current(iris, listing)
        assert page3.text is not None
        assert "Page 3 of 3" in page3.text
        assert items(page3) == [f"Picture {n:02d}" for n in range(5, 0, -1)]
        assert controls(page3) == ["◀️ Previous", "⭐ Favorites only", "↕️ Newest first"]

        await press(iris, ALICE, listing, "◀️ Previous")
        assert items(current(iris, listing)) == items(page2)

        lists = ailuna_since(iris, start)
        assert shapes(lists) == [("GET", LIST)] * 4
        assert [r.query for r in lists] == [{**NEWEST, "page": str(p)} for p in (1, 2, 3, 2)]
        assert {r.headers["Authorization"] for r in lists} == {f"Bearer {KEY_ALICE}"}
        assert len(sends_to(iris, ALICE.id)) == sent  # every move edited the same message
        assert current(iris, listing).edits == 3
        assert all("Bob" not in label for label in items(page2) + items(page3))


async def test_without_a_page_count_next_shows_only_after_a_full_page(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        iris.ailuna.bare = True  # lists as a bare array: no meta, no last page
        for n in range(1, 13):
            iris.ailuna.add(KEY_ALICE, f"Picture {n:02d}")
        listing = await gallery(iris, ALICE)
        assert listing.text is not None
        assert listing.text.endswith("Page 1")
        assert len(items(listing)) == 10
        assert controls(listing)[0] == "Next ▶️"
        await press(iris, ALICE, listing, "Next ▶️")
        page2 = current(iris, listing)
        assert page2.text is not None
        assert page2.text.endswith("Page 2")
        assert items(page2) == ["Picture 02", "Picture 01"]
        assert controls(page2) == ["◀️ Previous", "⭐ Favorites only", "↕️ Newest first"]


async def test_search_is_sent_by_name_and_kept_by_the_buttons(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        iris.ailuna.add(KEY_ALICE, "Red fox", favorite=True)
        iris.ailuna.add(KEY_ALICE, "Owl at night")
        iris.ailuna.add(KEY_ALICE, "Fox den")
        iris.ailuna.add(KEY_BOB, "fox of Bob")
        start = count(iris)
        listing = await gallery(iris, ALICE, "/gallery   fox ")
        assert listing.text is not None
        assert "Name contains “fox”" in listing.text
        assert items(listing) == ["Fox den", "⭐ Red fox"]

        await press(iris, ALICE, listing, "⭐ Favorites only")
        assert items(current(iris, listing)) == ["⭐ Red fox"]
        searched = {"search": "fox", "search_by": "name", **NEWEST, "page": "1"}
        assert [r.query for r in ailuna_since(iris, start)] == [
            searched,
            {**searched, "favorite": "1"},
        ]

        empty = await gallery(iris, ALICE, "/gallery zebra")
        assert empty.text is not None
        assert "No image matches." in empty.text
        assert items(empty) == []


async def test_favorites_and_sort_toggles_send_their_parameters(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        for name, favorite in (("beta", True), ("alpha", False), ("gamma", True)):
            iris.ailuna.add(KEY_ALICE, name, favorite=favorite)
        listing = await gallery(iris, ALICE)
        start = count(iris)

        await press(iris, ALICE, listing, "⭐ Favorites only")
        now = current(iris, listing)
        assert now.text is not None
        assert "⭐ Favorites only" in now.text
        assert items(now) == ["⭐ gamma", "⭐ beta"]
        assert controls(now) == ["🖼 All images", "↕️ Newest first"]

        await press(iris, ALICE, listing, "🖼 All images")
        assert items(current(iris, listing)) == ["⭐ gamma", "alpha", "⭐ beta"]
        await press(iris, ALICE, listing, "↕️ Newest first")
        assert items(current(iris, listing)) == ["⭐ beta", "alpha", "⭐ gamma"]
        await press(iris, ALICE, listing, "↕️ Oldest first")
        assert items(current(iris, listing)) == ["alpha", "⭐ beta", "⭐ gamma"]
        await press(iris, ALICE, listing, "↕️ By name")
        assert controls(current(iris, listing)) == ["⭐ Favorites only", "↕️ Newest first"]

        assert [r.query for r in ailuna_since(iris, start)] == [
            {**NEWEST, "page": "1", "favorite": "1"},
            {**NEWEST, "page": "1"},
            {"sort_by": "id", "sort": "asc", "per_page": "10", "page": "1"},
            {"sort_by": "name", "sort": "asc", "per_page": "10", "page": "1"},
            {**NEWEST, "page": "1"},
        ]


async def test_an_empty_gallery_and_a_provider_error_are_explained(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        empty = await gallery(iris, ALICE)
        assert empty.text is not None
        assert "No images yet" in empty.text
        assert controls(empty) == ["⭐ Favorites only", "↕️ Newest first"]

        iris.ailuna.fail("list", Canned.json(401, {"message": "Unauthenticated."}))
        refused = await gallery(iris, ALICE)
        assert refused.text == "AiLuna rejected your key. Set a new one with /setkey."
        assert refused.buttons == []


# --- the card ----------------------------------------------------------------------------------


async def test_an_image_opens_as_a_photo_card_and_goes_back_to_the_list(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        iris.ailuna.add(KEY_ALICE, "Owl")
        fox = iris.ailuna.add(KEY_ALICE, "Red <fox>", style="anime", medium="ink")
        listing = await gallery(iris, ALICE)
        start, mark = count(iris), iris.api.mark()

        card = await open_card(iris, ALICE, listing, "Red <fox>")
        [photo] = iris.api.calls_of("sendPhoto")[-1:]
        assert "<b>Red &lt;fox&gt;</b>" in photo.params["caption"]
        assert card.caption is not None
        assert "1024x1024 · anime · ink" in card.caption
        assert "a picture of Red <fox>" in card.caption
        assert card.photo is not None
        assert iris.api.file_bytes(card.photo) == iris.ailuna.png
        assert texts(card) == CARD_BUTTONS
        opened = ailuna_since(iris, start)
        assert shapes(opened) == [("GET", f"{LIST}/{fox.id}"), ("GET", f"/storage/{fox.id}.png")]
        assert all(r.headers["Authorization"] == f"Bearer {KEY_ALICE}" for r in opened)
        assert iris.api.calls_of("editMessageText")[mark:] == []

        start = count(iris)
        await press(iris, ALICE, card, "↩️ Back to the list")
        assert current(iris, card).deleted
        assert shapes(ailuna_since(iris, start)) == [("GET", LIST)]
        assert items(current(iris, listing)) == ["Red <fox>", "Owl"]
        assert iris.api.bot_messages(ALICE.id)[-1].message_id == listing.message_id


async def test_star_marks_and_unmarks_a_favorite_on_the_card(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        fox = iris.ailuna.add(KEY_ALICE, "Red fox")
        card = await open_card(iris, ALICE, await gallery(iris, ALICE), "Red fox")

        start = count(iris)
        assert await press(iris, ALICE, card, "⭐ Add to favorites") == "Added to favorites."
        [starred] = ailuna_since(iris, start)
        assert (starred.method, starred.path, starred.form()) == (
            "PATCH",
            f"{LIST}/{fox.id}",
            {"favorite": "1"},
        )
        assert iris.ailuna.images[fox.id].favorite
        now = current(iris, card)
        assert now.caption is not None
        assert now.caption.startswith("⭐ Red fox")
        assert texts(now)[0] == "★ In favorites"

        start = count(iris)
        assert await press(iris, ALICE, card, "★ In favorites") == "Removed from favorites."
        [unstarred] = ailuna_since(iris, start)
        assert unstarred.form() == {"favorite": "0"}
        assert not iris.ailuna.images[fox.id].favorite
        assert texts(current(iris, card)) == CARD_BUTTONS
        assert len(iris.api.calls_of("sendPhoto")) == 1  # the same card all along


async def test_an_image_gone_at_ailuna_refreshes_the_list(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        owl = iris.ailuna.add(KEY_ALICE, "Owl")
        iris.ailuna.add(KEY_ALICE, "Red fox")
        listing = await gallery(iris, ALICE)
        del iris.ailuna.images[owl.id]  # deleted on the website meanwhile
        start = count(iris)
        assert await press(iris, ALICE, listing, "Owl") == GONE
        assert shapes(ailuna_since(iris, start)) == [("GET", f"{LIST}/{owl.id}"), ("GET", LIST)]
        assert items(current(iris, listing)) == ["Red fox"]
        assert not iris.api.called("sendPhoto")


# --- rename ------------------------------------------------------------------------------------


async def test_rename_takes_the_next_message_and_edits_the_card(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        fox = iris.ailuna.add(KEY_ALICE, "Red fox", favorite=True)
        card = await open_card(iris, ALICE, await gallery(iris, ALICE), "⭐ Red fox")

        mark = iris.api.mark()
        await press(iris, ALICE, card, "✏️ Rename")
        prompt_call = await iris.reply(ALICE.id, after=mark)
        assert "new name" in prompt_call.params["text"]
        assert int(prompt_call.params["reply_parameters"]["message_id"]) == card.message_id
        prompt = iris.api.bot_messages(ALICE.id)[-1]
        assert await rename_state(iris, ALICE) == GalleryStates.rename.state

        start, mark = count(iris), iris.api.mark()
        await iris.say(ALICE, "  New <b>name</b>  ")
        await iris.api.wait_for("editMessageCaption", after=mark)
        [renamed] = ailuna_since(iris, start)
        assert (renamed.method, renamed.path, renamed.form()) == (
            "PATCH",
            f"{LIST}/{fox.id}",
            {"name": "New <b>name</b>"},
        )
        assert fox.name == "New <b>name</b>"
        now = current(iris, card)
        assert now.caption is not None
        assert now.caption.startswith("⭐ New <b>name</b>")  # shown as typed, not as markup
        assert texts(now)[0] == "★ In favorites"
        await iris.api.wait_until(lambda: current(iris, prompt).text != prompt.text)
        assert current(iris, prompt).text == "✏️ Renamed to “New <b>name</b>”."
        assert await rename_state(iris, ALICE) is None
        assert sends_to(iris, ALICE.id)[-1] == prompt_call  # nothing new was sent


async def test_cancel_and_other_commands_end_a_rename_without_a_request(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        fox = iris.ailuna.add(KEY_ALICE, "Red fox")
        card = await open_card(iris, ALICE, await gallery(iris, ALICE), "Red fox")
        start = count(iris)

        mark = iris.api.mark()
        await press(iris, ALICE, card, "✏️ Rename")
        await iris.reply(ALICE.id, after=mark)
        prompt = iris.api.bot_messages(ALICE.id)[-1]
        mark = iris.api.mark()
        await iris.say(ALICE, "/cancel")
        await iris.api.wait_for("editMessageText", after=mark)
        assert current(iris, prompt).text == "Rename cancelled."
        assert await rename_state(iris, ALICE) is None

        mark = iris.api.mark()
        await press(iris, ALICE, card, "✏️ Rename")
        await iris.reply(ALICE.id, after=mark)
        second = iris.api.bot_messages(ALICE.id)[-1]
        mark = iris.api.mark()
        await iris.say(ALICE, "x" * 61)
        refusal = await iris.reply(ALICE.id, after=mark)
        assert "1 to 60 characters" in refusal.params["text"]
        assert await rename_state(iris, ALICE) == GalleryStates.rename.state

        listing = await gallery(iris, ALICE)  # a command is a command, not a name
        assert listing.text is not None
        assert "Your AiLuna images" in listing.text
        assert current(iris, second).text == "Rename cancelled."
        assert await rename_state(iris, ALICE) is None
        assert fox.name == "Red fox"
        assert all(r.method == "GET" and r.path == LIST for r in ailuna_since(iris, start))


async def test_the_cancel_button_under_the_prompt_ends_the_rename(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        iris.ailuna.add(KEY_ALICE, "Red fox")
        card = await open_card(iris, ALICE, await gallery(iris, ALICE), "Red fox")
        start, mark = count(iris), iris.api.mark()
        await press(iris, ALICE, card, "✏️ Rename")
        await iris.reply(ALICE.id, after=mark)
        prompt = iris.api.bot_messages(ALICE.id)[-1]
        await press(iris, ALICE, prompt, "✖️ Cancel")
        assert current(iris, prompt).text == "Rename cancelled."
        assert current(iris, prompt).buttons == []
        assert await rename_state(iris, ALICE) is None
        assert ailuna_since(iris, start) == []


# --- delete ------------------------------------------------------------------------------------


async def test_delete_asks_first_and_then_refreshes_the_list(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        iris.ailuna.add(KEY_ALICE, "Owl")
        fox = iris.ailuna.add(KEY_ALICE, "Red fox")
        listing = await gallery(iris, ALICE)
        card = await open_card(iris, ALICE, listing, "Red fox")
        start = count(iris)

        asked = await press(iris, ALICE, card, "🗑 Delete")
        assert asked is not None
        assert "Delete this image for good?" in asked
        assert texts(current(iris, card)) == ["✅ Yes, delete it", "✖️ No, keep it"]
        assert await press(iris, ALICE, card, "✖️ No, keep it") is None
        assert texts(current(iris, card)) == CARD_BUTTONS
        assert ailuna_since(iris, start) == []
        assert fox.id in iris.ailuna.images

        await press(iris, ALICE, card, "🗑 Delete")
        assert await press(iris, ALICE, card, "✅ Yes, delete it") == "🗑 Deleted."
        assert shapes(ailuna_since(iris, start)) == [("DELETE", f"{LIST}/{fox.id}"), ("GET", LIST)]
        assert fox.id not in iris.ailuna.images
        assert current(iris, card).deleted
        assert items(current(iris, listing)) == ["Owl"]


# --- who may do what ---------------------------------------------------------------------------


async def test_another_users_image_ids_and_tampered_buttons_change_nothing(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        await iris.set_key(BOB, "ailuna", KEY_BOB)
        fox = iris.ailuna.add(KEY_ALICE, "Red fox")
        view = GalleryView()
        forged = [
            GalleryAction.bound(action, image_id=str(fox.id), starred=False, view=view).pack()
            for action in (GalleryButton.OPEN, GalleryButton.STAR, GalleryButton.CONFIRM_DELETE)
        ]
        tampered = ["img:o:1:0:0:0:1:n:0", "img:o:../1:0:0:1:0:n:0", "gal:x:0:n:0", "gal:1:0:z:0"]
        start = count(iris)
        for data in tampered:
            assert await press_data(iris, BOB, await crafted(iris, BOB, data), data) == STALE
        assert ailuna_since(iris, start) == []

        for data in forged:
            assert await press_data(iris, BOB, await crafted(iris, BOB, data), data) == GONE
        used = {r.headers["Authorization"] for r in ailuna_since(iris, start)}
        assert used == {f"Bearer {KEY_BOB}"}
        assert (fox.name, fox.favorite, fox.id in iris.ailuna.images) == ("Red fox", False, True)
        assert sends_to(iris, ALICE.id, "sendPhoto") == []


async def test_without_an_own_key_the_gallery_says_how_to_add_one(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, ailuna_api_key=KEY_BOB) as iris:
        iris.ailuna.add(KEY_BOB, "the operator's image")
        mark = iris.api.mark()
        await iris.say(ALICE, "/gallery")
        answer = await iris.reply(ALICE.id, after=mark)
        assert "needs your own AiLuna key" in answer.params["text"]
        keyboard = answer.params["reply_markup"]["inline_keyboard"]
        assert keyboard[0][0]["url"] == "https://t.me/iris_test_bot?start=keys"
        assert iris.servers["ailuna"].requests == []


async def test_without_any_key_the_gallery_links_to_key_setup(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        mark = iris.api.mark()
        await iris.say(ALICE, "/gallery fox")
        answer = await iris.reply(ALICE.id, after=mark)
        assert "You have no AiLuna key yet" in answer.params["text"]
        keyboard = answer.params["reply_markup"]["inline_keyboard"]
        assert keyboard[0][0]["url"] == "https://t.me/iris_test_bot?start=keys"
        assert iris.servers["ailuna"].requests == []


async def test_in_a_group_the_gallery_links_to_the_private_chat(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        iris.ailuna.add(KEY_ALICE, "Red fox")
        start, mark = count(iris), iris.api.mark()
        await iris.say(ALICE, "/gallery@iris_test_bot fox", chat=GROUP)
        answer = await iris.reply(GROUP.id, after=mark)
        assert "private chat" in answer.params["text"]
        assert "Red fox" not in answer.params["text"]
        keyboard = answer.params["reply_markup"]["inline_keyboard"]
        assert keyboard[0][0]["url"] == "https://t.me/iris_test_bot?start=gallery"
        assert ailuna_since(iris, start) == []

        listing = await gallery(iris, ALICE, "/start gallery")  # where that button leads
        assert items(listing) == ["Red fox"]
