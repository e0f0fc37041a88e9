"""The AiLuna client against a loopback fake of its images API."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import pytest

from playground.providers import ailuna as fake
from playground.providers.ailuna import KEY_ALICE, KEY_BOB, AiLunaState, Canned, make_png
from playground.providers.server import LoopbackServer, RecordedRequest
from services.ailuna import AiLunaClient, AiLunaCredential, AiLunaImage
from services.ailuna.options import (
    FILTERS,
    MEDIUMS,
    NAME_MAX,
    PER_PAGE,
    RESOLUTIONS,
    SORT,
    SORT_BY,
    STYLES,
    short_name,
)
from services.base import GeneratedImage, Pending, Submission
from services.exceptions import (
    AuthError,
    BadRequestError,
    InvalidOptionError,
    NotFoundError,
    OutcomeUnknownError,
    OutOfCreditsError,
    ProviderError,
    RateLimitedError,
    ResponseTooLargeError,
    ServiceError,
    UnavailableError,
    UnexpectedResponseError,
)
from tests.conftest import FAST_RETRY, SHORT_TIMEOUT, Serve

ALICE = AiLunaCredential(KEY_ALICE)
BOB = AiLunaCredential(KEY_BOB)
IMAGES = "/api/v1/images"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Env:
    """The fake's state, its server and a client pointed at it."""

    state: AiLunaState
    server: LoopbackServer
    client: AiLunaClient

    def api(self) -> list[RecordedRequest]:
        """The requests to the API (not to the image storage)."""
        return [r for r in self.server.requests if r.path.startswith(IMAGES)]


@pytest.fixture
async def env(serve: Serve, session: aiohttp.ClientSession) -> Env:
    state = AiLunaState()
    server = await serve(fake.make_app(state))
    client = AiLunaClient(session, base_url=server.url, retry=FAST_RETRY, timeout=SHORT_TIMEOUT)
    return Env(state, server, client)


def seed(state: AiLunaState) -> None:
    """Alice's four images (ids 1-4) and one of Bob's (id 5)."""
    state.add(
        KEY_ALICE,
        "Red fox",
        resolution="512x512",
        style="anime",
        medium="ink",
        filter="grayscale",
        favorite=True,
    )
    state.add(KEY_ALICE, "Blue whale", style="photography", medium="watercolor", filter="sepia")
    state.add(
        KEY_ALICE,
        "red panda",
        resolution="256x256",
        style="anime",
        medium="pencil",
        filter="invert",
        favorite=True,
    )
    state.add(KEY_ALICE, "Green tree")
    state.add(KEY_BOB, "Red car", style="anime", favorite=True)


# --- list -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "query", "ids"),
    [
        ({}, {}, ["4", "3", "2", "1"]),
        ({"search": "RED"}, {"search": "RED"}, ["3", "1"]),
        (
            {"search": "fox", "search_by": "name"},
            {"search": "fox", "search_by": "name"},
            ["1"],
        ),
        ({"resolution": "512x512"}, {"resolution": "512x512"}, ["1"]),
        ({"style": "anime"}, {"style": "anime"}, ["3", "1"]),
        ({"medium": "watercolor"}, {"medium": "watercolor"}, ["2"]),
        ({"filter": "invert"}, {"filter": "invert"}, ["3"]),
        ({"favorite": True}, {"favorite": "1"}, ["3", "1"]),
        ({"favorite": False}, {"favorite": "0"}, ["4", "2"]),
        ({"sort": "asc"}, {"sort": "asc"}, ["1", "2", "3", "4"]),
        ({"sort_by": "name"}, {"sort_by": "name"}, ["3", "1", "4", "2"]),
        (
            {"sort_by": "name", "sort": "asc"},
            {"sort_by": "name", "sort": "asc"},
            ["2", "4", "1", "3"],
        ),
        ({"per_page": 10}, {"per_page": "10"}, ["4", "3", "2", "1"]),
        ({"per_page": 10, "page": 2}, {"per_page": "10", "page": "2"}, []),
    ],
)
async def test_list_sends_only_given_params_and_they_filter(
    env: Env, kwargs: dict[str, Any], query: dict[str, str], ids: list[str]
) -> None:
    seed(env.state)
    page = await env.client.list_images(ALICE, **kwargs)
    [request] = env.api()
    assert (request.method, request.path, request.query) == ("GET", IMAGES, query)
    assert request.headers["Authorization"] == f"Bearer {KEY_ALICE}"
    assert request.headers["Accept"] == "application/json"
    assert [i.id for i in page.items] == ids
    assert page.page == kwargs.get("page", 1)
    assert page.per_page == kwargs.get("per_page", 25)


async def test_list_parses_images_and_paging_meta(env: Env) -> None:
    for n in range(30):
        env.state.add(KEY_ALICE, f"cat {n:02d}", style="retro", favorite=n % 2 == 0)
    page = await env.client.list_images(ALICE, per_page=25, page=2, sort="asc")
    assert (page.page, page.per_page, page.total, page.last_page) == (2, 25, 30, 2)
    assert [i.name for i in page.items] == [f"cat {n}" for n in range(25, 30)]
    first = page.items[0]
    assert first.url == f"{env.server.url}/storage/26.png"
    assert (first.style, first.favorite, first.resolution) == ("retro", False, "1024x1024")
    assert page.items[1].favorite is True


@pytest.mark.parametrize(
    ("kwargs", "option", "allowed"),
    [
        ({"search_by": "description"}, "search_by", ("name",)),
        ({"resolution": "2048x2048"}, "resolution", RESOLUTIONS),
        ({"style": "oil"}, "style", STYLES),
        ({"medium": "clay"}, "medium", MEDIUMS),
        ({"filter": "blur"}, "filter", FILTERS),
        ({"sort_by": "created_at"}, "sort_by", SORT_BY),
        ({"sort": "up"}, "sort", SORT),
        ({"per_page": 20}, "per_page", tuple(str(n) for n in PER_PAGE)),
    ],
)
async def test_list_refuses_invalid_values_before_any_request(
    env: Env, kwargs: dict[str, Any], option: str, allowed: tuple[str, ...]
) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        await env.client.list_images(ALICE, **kwargs)
    assert (caught.value.option, caught.value.allowed) == (option, allowed)
    assert ", ".join(allowed) in str(caught.value)
    assert env.server.requests == []


async def test_list_refuses_page_zero_before_any_request(env: Env) -> None:
    with pytest.raises(BadRequestError, match="page"):
        await env.client.list_images(ALICE, page=0)
    assert env.server.requests == []


async def test_list_accepts_a_bare_array(env: Env) -> None:
    seed(env.state)
    env.state.bare = True
    page = await env.client.list_images(ALICE, style="anime", per_page=50)
    assert [i.name for i in page.items] == ["red panda", "Red fox"]
    assert (page.page, page.per_page, page.total, page.last_page) == (1, 50, None, None)


async def test_list_reads_paging_at_top_level_and_from_links(env: Env) -> None:
    image = {"id": 7, "name": "owl", "image_url": "https://cdn.example/7.png", "extra": [1]}
    env.state.fail(
        "list",
        Canned.json(200, {"data": [image], "current_page": "3", "per_page": 10, "total": 41}),
        Canned.json(200, {"data": [image], "links": {"last": "https://x.example/i?page=9"}}),
    )
    top = await env.client.list_images(ALICE, page=3, per_page=10)
    assert (top.page, top.per_page, top.total, top.last_page) == (3, 10, 41, None)
    assert top.items == (AiLunaImage(id="7", name="owl", url="https://cdn.example/7.png"),)
    linked = await env.client.list_images(ALICE)
    assert (linked.page, linked.per_page, linked.total, linked.last_page) == (1, 25, None, 9)


async def test_another_users_images_are_invisible(env: Env) -> None:
    seed(env.state)
    bob = await env.client.list_images(BOB)
    assert [i.name for i in bob.items] == ["Red car"]
    with pytest.raises(NotFoundError):
        await env.client.show(BOB, image_id="1")
    with pytest.raises(NotFoundError):
        await env.client.delete(BOB, image_id="1")
    assert 1 in env.state.images


# --- show -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bare", [False, True])
async def test_show_parses_the_image_wrapped_or_bare(env: Env, bare: bool) -> None:
    seed(env.state)
    env.state.bare = bare
    image = await env.client.show(ALICE, image_id="1")
    assert image == AiLunaImage(
        id="1",
        name="Red fox",
        url=f"{env.server.url}/storage/1.png",
        favorite=True,
        resolution="512x512",
        style="anime",
        medium="ink",
        filter="grayscale",
        description="a picture of Red fox",
    )
    [request] = env.api()
    assert (request.method, request.path) == ("GET", f"{IMAGES}/1")
    assert request.headers["Accept"] == "application/json"


async def test_show_of_a_missing_image_is_not_found(env: Env) -> None:
    with pytest.raises(NotFoundError) as caught:
        await env.client.show(ALICE, image_id="99")
    assert caught.value.status == 404


@pytest.mark.parametrize("image_id", ["", "1/2", "../1", "a b", "1?x=2", "%2F"])
async def test_show_refuses_unsafe_ids_before_any_request(env: Env, image_id: str) -> None:
    with pytest.raises(BadRequestError):
        await env.client.show(ALICE, image_id=image_id)
    assert env.server.requests == []


async def test_show_without_an_id_is_unexpected(env: Env) -> None:
    env.state.fail("show", Canned.json(200, {"data": {"name": "no id"}}))
    with pytest.raises(UnexpectedResponseError, match="no id"):
        await env.client.show(ALICE, image_id="1")


async def test_malformed_json_is_unexpected(env: Env) -> None:
    env.state.fail("show", fake.malformed())
    with pytest.raises(UnexpectedResponseError, match="malformed JSON"):
        await env.client.show(ALICE, image_id="1")


# --- store ------------------------------------------------------------------------------------


async def test_store_sends_a_form_with_only_the_given_fields(env: Env) -> None:
    image = await env.client.store(
        ALICE, name="Fox", description="a red fox in snow", resolution="512x512"
    )
    [request] = env.api()
    assert (request.method, request.path, request.content_type) == ("POST", IMAGES, FORM)
    assert request.headers["Authorization"] == f"Bearer {KEY_ALICE}"
    assert request.form() == {
        "name": "Fox",
        "description": "a red fox in snow",
        "resolution": "512x512",
    }
    assert (image.id, image.name, image.resolution, image.style) == ("1", "Fox", "512x512", None)
    assert env.state.images[1].owner == KEY_ALICE


async def test_store_sends_the_optional_fields_when_given(env: Env) -> None:
    image = await env.client.store(
        ALICE,
        name="Fox",
        description="a fox",
        resolution="256x256",
        style="pixel_art",
        medium="chalk",
        filter="sepia",
    )
    [request] = env.api()
    assert request.form() == {
        "name": "Fox",
        "description": "a fox",
        "resolution": "256x256",
        "style": "pixel_art",
        "medium": "chalk",
        "filter": "sepia",
    }
    assert (image.style, image.medium, image.filter) == ("pixel_art", "chalk", "sepia")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"resolution": "300x300"}, InvalidOptionError),
        ({"style": "oil"}, InvalidOptionError),
        ({"medium": "clay"}, InvalidOptionError),
        ({"filter": "blur"}, InvalidOptionError),
        ({"name": "  "}, BadRequestError),
        ({"description": ""}, BadRequestError),
    ],
)
async def test_store_refuses_invalid_values_before_any_request(
    env: Env, kwargs: dict[str, Any], error: type[ServiceError]
) -> None:
    args: dict[str, Any] = {"name": "n", "description": "d", "resolution": "256x256", **kwargs}
    with pytest.raises(error):
        await env.client.store(ALICE, **args)
    assert env.server.requests == []


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (fake.hang(), OutcomeUnknownError),
        (fake.cut(), OutcomeUnknownError),
        (fake.server_error(500), UnavailableError),
    ],
)
async def test_store_is_never_resent(env: Env, answer: Canned, error: type[ProviderError]) -> None:
    env.state.fail("store", answer)
    with pytest.raises(error):
        await env.client.store(ALICE, name="n", description="d", resolution="256x256")
    assert len(env.server.calls("POST", IMAGES)) == 1


async def test_store_timeout_is_outcome_unknown(env: Env) -> None:
    env.state.fail("store", fake.hang())
    with pytest.raises(OutcomeUnknownError):
        await env.client.submit(ALICE, prompt="a fox", options={})
    assert len(env.server.calls("POST", IMAGES)) == 1


async def test_validation_error_is_a_bad_request_naming_the_fields(env: Env) -> None:
    env.state.fail(
        "store",
        Canned.json(
            422,
            {
                "message": "The description field is required. (and 1 more error)",
                "errors": {
                    "description": ["The description field is required."],
                    "name": ["The name may not be greater than 255 characters."],
                },
            },
        ),
    )
    with pytest.raises(BadRequestError) as caught:
        await env.client.store(ALICE, name="n", description="d", resolution="256x256")
    assert caught.value.status == 422
    assert "The description field is required." in str(caught.value)
    assert "fields: description, name" in str(caught.value)


# --- update and delete ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_renames_and_marks_favorite(env: Env, method: Literal["PUT", "PATCH"]) -> None:
    seed(env.state)
    renamed = await env.client.update(ALICE, image_id="2", name="Whale", method=method)
    unfavored = await env.client.update(ALICE, image_id="1", favorite=False, method=method)
    favored = await env.client.update(ALICE, image_id="2", favorite=True, method=method)
    first, second, third = env.api()
    assert (first.method, first.path, first.content_type) == (method, f"{IMAGES}/2", FORM)
    assert first.form() == {"name": "Whale"}
    assert second.form() == {"favorite": "0"}
    assert third.form() == {"favorite": "1"}
    assert first.headers["Authorization"] == f"Bearer {KEY_ALICE}"
    assert (renamed.name, renamed.favorite) == ("Whale", False)
    assert (unfavored.id, unfavored.favorite) == ("1", False)
    assert (favored.name, favored.favorite) == ("Whale", True)
    assert env.state.images[2].favorite
    assert not env.state.images[1].favorite


async def test_update_without_a_body_reads_the_image_back(env: Env) -> None:
    seed(env.state)
    env.state.update_empty = True
    image = await env.client.update(ALICE, image_id="4", name="Oak", favorite=True)
    patch, show = env.api()
    assert patch.form() == {"name": "Oak", "favorite": "1"}
    assert (show.method, show.path) == ("GET", f"{IMAGES}/4")
    assert (image.name, image.favorite) == ("Oak", True)


async def test_update_needs_a_field_before_any_request(env: Env) -> None:
    with pytest.raises(BadRequestError):
        await env.client.update(ALICE, image_id="1")
    with pytest.raises(BadRequestError):
        await env.client.update(ALICE, image_id="1", name=" ")
    assert env.server.requests == []


@pytest.mark.parametrize("delete_json", [False, True])
async def test_delete_accepts_204_and_200_json(env: Env, delete_json: bool) -> None:
    seed(env.state)
    env.state.delete_json = delete_json
    await env.client.delete(ALICE, image_id="3")
    [request] = env.api()
    assert (request.method, request.path) == ("DELETE", f"{IMAGES}/3")
    assert request.headers["Authorization"] == f"Bearer {KEY_ALICE}"
    assert 3 not in env.state.images
    with pytest.raises(NotFoundError):
        await env.client.delete(ALICE, image_id="3")


# --- submit and poll --------------------------------------------------------------------------


async def test_submit_then_poll_until_the_image_has_a_link(env: Env) -> None:
    env.state.pending_shows = 2
    submission = await env.client.submit(ALICE, prompt="  a red fox in snow ", options={})
    assert submission == Submission(task_id="1")
    [store] = env.api()
    assert store.form() == {
        "name": "a red fox in snow",
        "description": "a red fox in snow",
        "resolution": "1024x1024",
    }
    assert await env.client.poll(ALICE, task_id="1") == Pending("processing")
    assert await env.client.poll(ALICE, task_id="1") == Pending("processing")
    done = await env.client.poll(ALICE, task_id="1")
    assert done == GeneratedImage(data=env.state.png, mime_type="image/png", remote_id="1")
    [download] = env.server.calls("GET", "/storage/1.png")
    # The storage is the provider's own origin, so the key may go there.
    assert download.headers["Authorization"] == f"Bearer {KEY_ALICE}"


async def test_submit_sends_the_options(env: Env) -> None:
    options = {"res": "256x256", "style": "origami", "medium": "glass", "filter": "invert"}
    await env.client.submit(ALICE, prompt="a crane", options=options)
    [store] = env.api()
    assert store.form() == {
        "name": "a crane",
        "description": "a crane",
        "resolution": "256x256",
        "style": "origami",
        "medium": "glass",
        "filter": "invert",
    }


async def test_submit_names_a_long_prompt_after_its_start(env: Env) -> None:
    prompt = "a very detailed painting of a lighthouse on a cliff at dusk, waves crashing below"
    await env.client.submit(ALICE, prompt=prompt, options={})
    [store] = env.api()
    assert store.form()["description"] == prompt
    assert store.form()["name"] == short_name(prompt)


@pytest.mark.parametrize(
    ("options", "prompt", "error"),
    [
        ({"res": "300x300"}, "a fox", InvalidOptionError),
        ({"style": "oil"}, "a fox", InvalidOptionError),
        ({"ar": "16:9"}, "a fox", InvalidOptionError),
        ({}, "   ", BadRequestError),
    ],
)
async def test_submit_refuses_bad_input_before_any_request(
    env: Env, options: dict[str, str], prompt: str, error: type[ServiceError]
) -> None:
    with pytest.raises(error):
        await env.client.submit(ALICE, prompt=prompt, options=options)
    assert env.server.requests == []


@pytest.mark.parametrize("link_field", ["image_url", "path"])
async def test_poll_follows_image_url_and_relative_path(
    env: Env, link_field: Literal["image_url", "path"]
) -> None:
    env.state.link_field = link_field
    env.state.png = make_png(5, 7, (250, 10, 10))
    image = env.state.add(KEY_ALICE, "fox")
    shown = await env.client.show(ALICE, image_id=str(image.id))
    assert shown.url == f"{env.server.url}/storage/{image.id}.png"
    done = await env.client.poll(ALICE, task_id=str(image.id))
    assert isinstance(done, GeneratedImage)
    assert done.data == env.state.png
    assert len(env.server.calls("GET", f"/storage/{image.id}.png")) == 1


async def test_poll_never_sends_the_key_to_a_third_party_host(env: Env, serve: Serve) -> None:
    cdn = await serve(fake.make_cdn_app(env.state))
    env.state.link_base = cdn.url
    env.state.add(KEY_ALICE, "fox")
    done = await env.client.poll(ALICE, task_id="1")
    assert done == GeneratedImage(data=env.state.png, mime_type="image/png", remote_id="1")
    [download] = cdn.requests
    assert download.path == "/storage/1.png"
    assert "Authorization" not in download.headers
    assert all(KEY_ALICE not in value for value in download.headers.values())


async def test_poll_of_a_link_that_is_no_image_is_unexpected(env: Env) -> None:
    env.state.png = b"<html>not an image</html>"
    env.state.add(KEY_ALICE, "fox")
    with pytest.raises(UnexpectedResponseError, match=r"/storage/1\.png is not an image"):
        await env.client.poll(ALICE, task_id="1")


async def test_poll_retries_a_failed_download(env: Env) -> None:
    env.state.add(KEY_ALICE, "fox")
    env.state.fail("storage", fake.server_error(503))
    done = await env.client.poll(ALICE, task_id="1")
    assert isinstance(done, GeneratedImage)
    assert done.data == env.state.png
    assert len(env.server.calls("GET", "/storage/1.png")) == 2


async def test_poll_refuses_a_link_that_is_not_http(env: Env) -> None:
    env.state.fail("show", Canned.json(200, {"id": 1, "name": "x", "url": "file:///etc/passwd"}))
    with pytest.raises(UnexpectedResponseError, match="not an http"):
        await env.client.poll(ALICE, task_id="1")


async def test_download_image_sends_the_key_only_to_the_providers_origin(
    env: Env, serve: Serve
) -> None:
    env.state.add(KEY_ALICE, "fox")
    own = await env.client.download_image(ALICE, url=f"{env.server.url}/storage/1.png")
    assert own == env.state.png
    [download] = env.server.calls("GET", "/storage/1.png")
    assert download.headers["Authorization"] == f"Bearer {KEY_ALICE}"
    cdn = await serve(fake.make_cdn_app(env.state))
    assert await env.client.download_image(ALICE, url=f"{cdn.url}/storage/1.png") == env.state.png
    [elsewhere] = cdn.requests
    assert "Authorization" not in elsewhere.headers


async def test_download_image_refuses_more_than_the_cap(
    env: Env, session: aiohttp.ClientSession
) -> None:
    env.state.add(KEY_ALICE, "fox")
    small = AiLunaClient(
        session, base_url=env.server.url, retry=FAST_RETRY, max_result_bytes=len(env.state.png) - 1
    )
    with pytest.raises(ResponseTooLargeError):
        await small.download_image(ALICE, url=f"{env.server.url}/storage/1.png")


async def test_download_image_refuses_a_link_that_is_not_http(env: Env) -> None:
    with pytest.raises(BadRequestError, match="not an http"):
        await env.client.download_image(ALICE, url="file:///etc/passwd")
    assert env.server.requests == []


def test_short_name_cuts_cleanly() -> None:
    assert short_name("  a   fox\n in snow ") == "a fox in snow"
    exact = "x" * NAME_MAX
    assert short_name(exact) == exact
    words = short_name("word " * 30)
    assert len(words) <= NAME_MAX
    assert words.endswith("word…")
    one_word = short_name("y" * 100)
    assert one_word == "y" * (NAME_MAX - 1) + "…"


# --- errors -----------------------------------------------------------------------------------


async def test_an_unknown_key_is_an_auth_error(env: Env) -> None:
    with pytest.raises(AuthError, match="Unauthenticated") as caught:
        await env.client.list_images(AiLunaCredential("nobody-0123456789abcdef"))
    assert caught.value.status == 401
    assert "nobody-0123456789abcdef" not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (fake.plan_limit(403), OutOfCreditsError),
        (fake.plan_limit(402), OutOfCreditsError),
        (Canned.json(403, {"message": "Недостаточно средств на балансе"}), OutOfCreditsError),
        (fake.forbidden(), AuthError),
    ],
)
async def test_plan_messages_mean_out_of_credits(
    env: Env, answer: Canned, error: type[ProviderError]
) -> None:
    env.state.fail("store", answer)
    with pytest.raises(error) as caught:
        await env.client.store(ALICE, name="n", description="d", resolution="256x256")
    assert type(caught.value) is error
    assert caught.value.status == answer.status


async def test_rate_limit_and_server_errors_on_list_are_retried(env: Env) -> None:
    seed(env.state)
    env.state.fail("list", fake.rate_limited("0"), fake.server_error(502))
    page = await env.client.list_images(ALICE)
    assert len(page.items) == 4
    assert len(env.server.calls("GET", IMAGES)) == 3


async def test_rate_limit_that_persists_is_raised(env: Env) -> None:
    env.state.fail("list", *(fake.rate_limited("0") for _ in range(3)))
    with pytest.raises(RateLimitedError) as caught:
        await env.client.list_images(ALICE)
    assert caught.value.retry_after == 0
    assert len(env.server.calls("GET", IMAGES)) == 3


async def test_the_key_is_never_in_errors_or_logs(
    env: Env, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    env.state.png = b"not an image"
    env.state.add(KEY_ALICE, "fox")
    env.state.fail("show", fake.malformed())
    env.state.fail("list", *(fake.server_error() for _ in range(3)))
    env.state.fail("store", fake.plan_limit(), fake.hang())
    errors: list[BaseException] = []
    calls = [
        env.client.show(ALICE, image_id="1"),
        env.client.list_images(ALICE),
        env.client.store(ALICE, name="n", description="d", resolution="256x256"),
        env.client.submit(ALICE, prompt="p", options={}),
        env.client.poll(ALICE, task_id="1"),
        env.client.show(ALICE, image_id="42"),
        env.client.list_images(ALICE, style="nope"),
        env.client.list_images(AiLunaCredential(KEY_ALICE + "x")),
    ]
    for call in calls:
        with pytest.raises(ServiceError) as caught:
            await call
        errors.append(caught.value)
    assert len(errors) == len(calls)
    for error in errors:
        chain = [error, error.__cause__, error.__context__]
        assert all(KEY_ALICE not in str(e) and KEY_ALICE not in repr(e) for e in chain)
    assert caplog.records
    for record in caplog.records:
        assert KEY_ALICE not in record.getMessage()
    assert KEY_ALICE not in repr(ALICE)


def test_credential_has_the_provider_name_and_one_field() -> None:
    assert (AiLunaCredential.provider, AiLunaCredential.fields) == ("ailuna", ("api_key",))
    assert AiLunaCredential.from_parts([KEY_BOB]) == BOB
    assert AiLunaClient.name == "ailuna"
    assert [o.name for o in AiLunaClient.options] == ["res", "style", "medium", "filter"]
