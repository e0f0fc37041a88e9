"""A fake AiLuna images API: per-key image stores, Laravel-style answers, scriptable failures."""

from __future__ import annotations

import asyncio
import io
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web
from PIL import Image

KEY_ALICE = "alice-0123456789abcdef0123456789abcdef"
KEY_BOB = "bob-fedcba9876543210fedcba9876543210"

RESOLUTIONS = ("256x256", "512x512", "1024x1024")
STYLES = (
    "3d_render",
    "abstract",
    "anime",
    "art_deco",
    "cartoon",
    "digital_art",
    "illustration",
    "origami",
    "pixel_art",
    "photography",
    "pop_art",
    "retro",
    "sketch",
    "vaporwave",
)
MEDIUMS = (
    "acrylic",
    "canvas",
    "chalk",
    "charcoal",
    "crayon",
    "glass",
    "ink",
    "pastel",
    "pencil",
    "spray_paint",
    "watercolor",
)
FILTERS = ("grayscale", "sepia", "invert")
# The lists are copied from the document, not imported from the client, so a typo there fails here.

Route = Literal["list", "show", "store", "update", "delete", "storage"]
LinkField = Literal["url", "image_url", "path"]

_FORM = "application/x-www-form-urlencoded"
_LIST_PARAMS = frozenset(
    {
        "search",
        "search_by",
        "resolution",
        "style",
        "medium",
        "filter",
        "favorite",
        "sort_by",
        "sort",
        "per_page",
        "page",
    }
)
_CHOICES: Mapping[str, tuple[str, ...]] = {
    "search_by": ("name",),
    "resolution": RESOLUTIONS,
    "style": STYLES,
    "medium": MEDIUMS,
    "filter": FILTERS,
    "favorite": ("1", "0"),
    "sort_by": ("id", "name"),
    "sort": ("desc", "asc"),
    "per_page": ("10", "25", "50", "100"),
}


def make_png(
    width: int = 16, height: int = 12, color: tuple[int, int, int] = (40, 90, 200)
) -> bytes:
    """Real PNG bytes made with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


@dataclass
class Canned:
    """A scripted answer that takes the place of the next normal one on its route."""

    status: int = 500
    body: bytes = b'{"message": "Server Error"}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    hang: bool = False
    """Never answer (until the server shuts down), so the client times out."""
    cut: bool = False
    """Close the connection without an answer."""

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Canned:
        """A JSON answer with this status."""
        return cls(
            status=status,
            body=json.dumps(value).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )


def server_error(status: int = 500) -> Canned:
    """A Laravel server error."""
    return Canned.json(status, {"message": "Server Error"})


def rate_limited(retry_after: str = "0") -> Canned:
    """Laravel's throttle answer."""
    return Canned.json(429, {"message": "Too Many Attempts."}, {"Retry-After": retry_after})


def plan_limit(status: int = 403) -> Canned:
    """The account's plan does not allow more images."""
    return Canned.json(
        status, {"message": "You have reached the images limit of your plan. Upgrade to continue."}
    )


def forbidden() -> Canned:
    """A plain 403 that says nothing about the plan."""
    return Canned.json(403, {"message": "This action is unauthorized."})


def malformed() -> Canned:
    """A 200 whose JSON is cut off."""
    return Canned(status=200, body=b'{"data": {"id": 1, "name": ')


def hang() -> Canned:
    """No answer at all."""
    return Canned(hang=True)


def cut() -> Canned:
    """The connection closed without an answer."""
    return Canned(cut=True)


@dataclass
class FakeImage:
    """One image as the fake stores it."""

    id: int
    owner: str
    name: str
    description: str
    resolution: str
    style: str | None = None
    medium: str | None = None
    filter: str | None = None
    favorite: bool = False
    pending_shows: int = 0
    """Shows left that answer `url: null` (the image is still being made)."""


@dataclass
class AiLunaState:
    """What the fake knows and how it is told to behave."""

    keys: set[str] = field(default_factory=lambda: {KEY_ALICE, KEY_BOB})
    images: dict[int, FakeImage] = field(default_factory=dict)
    next_id: int = 1
    pending_shows: int = 0
    """How many shows of a newly stored image answer without a link."""
    link_field: LinkField = "url"
    """Where the link goes; `path` holds a path relative to the site."""
    link_base: str | None = None
    """Origin of absolute links (a CDN); None means the fake's own origin."""
    bare: bool = False
    """Resources without the `data` wrapper, lists as a bare array."""
    delete_json: bool = False
    """Answer a delete with 200 and JSON instead of 204."""
    update_empty: bool = False
    """Answer an update with 204 and no body."""
    png: bytes = field(default_factory=make_png)
    script: dict[str, deque[Canned]] = field(default_factory=dict)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server shuts down, so hanging handlers end."""

    def fail(self, route: Route, *answers: Canned) -> None:
        """Queue answers that replace the next normal ones on `route`, in order."""
        self.script.setdefault(route, deque()).extend(answers)

    def add(self, owner: str, name: str, **fields: Any) -> FakeImage:
        """Store an image directly, as if made earlier (no link pending unless told)."""
        fields.setdefault("description", f"a picture of {name}")
        fields.setdefault("resolution", "1024x1024")
        image = FakeImage(id=self.next_id, owner=owner, name=name, **fields)
        self.images[image.id] = image
        self.next_id += 1
        return image


def make_app(state: AiLunaState) -> web.Application:
    """The fake AiLuna site: the images API and its storage."""
    app = web.Application()
    fake = _Fake(state)
    app.router.add_get("/api/v1/images", fake.list_images)
    app.router.add_post("/api/v1/images", fake.store)
    app.router.add_get("/api/v1/images/{id}", fake.show)
    app.router.add_put("/api/v1/images/{id}", fake.update)
    app.router.add_patch("/api/v1/images/{id}", fake.update)
    app.router.add_delete("/api/v1/images/{id}", fake.delete)
    app.router.add_get("/storage/{id}.png", fake.storage)
    app.on_shutdown.append(fake.release)
    return app


def make_cdn_app(state: AiLunaState) -> web.Application:
    """A third-party host serving the images; it refuses any request that carries a key."""

    async def image(request: web.Request) -> web.Response:
        if "Authorization" in request.headers:
            raise _error(web.HTTPBadRequest, "Authorization must never reach a third-party host")
        return web.Response(body=state.png, content_type="image/png")

    app = web.Application()
    app.router.add_get("/storage/{id}.png", image)
    return app


def _error(
    kind: type[web.HTTPException], message: str, errors: dict[str, list[str]] | None = None
) -> web.HTTPException:
    body: dict[str, Any] = {"message": message}
    if errors is not None:
        body["errors"] = errors
    return kind(text=json.dumps(body), content_type="application/json")


def _invalid(errors: dict[str, list[str]]) -> web.HTTPException:
    first = next(iter(errors.values()))[0]
    more = sum(len(v) for v in errors.values()) - 1
    message = first if not more else f"{first} (and {more} more errors)"
    return _error(web.HTTPUnprocessableEntity, message, errors)


def _unknown_fields(given: Mapping[str, str], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise _error(web.HTTPBadRequest, f"{where}: unknown fields {', '.join(unknown)}")


class _Fake:
    def __init__(self, state: AiLunaState) -> None:
        self.state = state

    async def release(self, app: web.Application) -> None:
        self.state.released.set()

    async def _scripted(self, request: web.Request, route: Route) -> web.StreamResponse | None:
        queue = self.state.script.get(route)
        if not queue:
            return None
        answer = queue.popleft()
        if answer.hang:
            await self.state.released.wait()
        if answer.cut or answer.hang:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=499)
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)

    def _owner(self, request: web.Request) -> str:
        """The API key's user, after the checks every API route makes."""
        if request.headers.get("Accept") != "application/json":
            raise _error(web.HTTPBadRequest, "the Accept header must be application/json")
        auth = request.headers.get("Authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme != "Bearer" or key not in self.state.keys:
            raise _error(web.HTTPUnauthorized, "Unauthenticated.")
        return key

    def _image(self, request: web.Request, owner: str) -> FakeImage:
        raw = request.match_info["id"]
        image = self.state.images.get(int(raw)) if raw.isdigit() else None
        if image is None or image.owner != owner:
            raise _error(web.HTTPNotFound, "No query results for model [App\\Models\\Image].")
        return image

    def _form(self, request: web.Request, body: bytes, known: frozenset[str]) -> dict[str, str]:
        if request.content_type != _FORM:
            raise _error(
                web.HTTPBadRequest, f"the body must be {_FORM}, not {request.content_type}"
            )
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError) as e:
            raise _error(web.HTTPBadRequest, f"the form body is malformed: {e}") from e
        form = dict(pairs)
        _unknown_fields(form, known, f"{request.method} {request.path}")
        return form

    def _resource(self, request: web.Request, image: FakeImage) -> dict[str, Any]:
        link: str | None = None
        if image.pending_shows <= 0:
            path = f"/storage/{image.id}.png"
            if self.state.link_field == "path":
                link = path
            else:
                link = f"{self.state.link_base or request.url.origin()}{path}"
        resource: dict[str, Any] = {
            "id": image.id,
            "name": image.name,
            "description": image.description,
            "resolution": image.resolution,
            "style": image.style,
            "medium": image.medium,
            "filter": image.filter,
            "favorite": int(image.favorite),
            "created_at": "2024-05-01T10:00:00.000000Z",
            "updated_at": "2024-05-01T10:00:00.000000Z",
        }
        resource[self.state.link_field] = link
        return resource

    def _one(self, request: web.Request, image: FakeImage, status: int = 200) -> web.Response:
        resource = self._resource(request, image)
        return web.json_response(resource if self.state.bare else {"data": resource}, status=status)

    async def list_images(self, request: web.Request) -> web.StreamResponse:
        if (answer := await self._scripted(request, "list")) is not None:
            return answer
        owner = self._owner(request)
        query = dict(request.query)
        _unknown_fields(query, _LIST_PARAMS, "GET /api/v1/images")
        errors = {
            name: [f"The selected {name} is invalid."]
            for name, choices in _CHOICES.items()
            if name in query and query[name] not in choices
        }
        page_text = query.get("page", "1")
        if not page_text.isdigit() or int(page_text) < 1:
            errors["page"] = ["The page must be at least 1."]
        if errors:
            raise _invalid(errors)
        images = [i for i in self.state.images.values() if i.owner == owner]
        if "search" in query:
            needle = query["search"].casefold()
            images = [i for i in images if needle in i.name.casefold()]
        for name in ("resolution", "style", "medium", "filter"):
            if name in query:
                images = [i for i in images if getattr(i, name) == query[name]]
        if "favorite" in query:
            images = [i for i in images if i.favorite == (query["favorite"] == "1")]
        descending = query.get("sort", "desc") == "desc"
        if query.get("sort_by", "id") == "name":
            images.sort(key=lambda i: (i.name.casefold(), i.id), reverse=descending)
        else:
            images.sort(key=lambda i: i.id, reverse=descending)
        per_page, page = int(query.get("per_page", "25")), int(page_text)
        chunk = images[(page - 1) * per_page : page * per_page]
        data = [self._resource(request, i) for i in chunk]
        if self.state.bare:
            return web.json_response(data)
        last_page = max(1, -(-len(images) // per_page))
        base = f"{request.url.origin()}/api/v1/images"
        return web.json_response(
            {
                "data": data,
                "links": {
                    "first": f"{base}?page=1",
                    "last": f"{base}?page={last_page}",
                    "prev": None,
                    "next": None,
                },
                "meta": {
                    "current_page": page,
                    "from": (page - 1) * per_page + 1 if chunk else None,
                    "last_page": last_page,
                    "path": base,
                    "per_page": per_page,
                    "to": (page - 1) * per_page + len(chunk) if chunk else None,
                    "total": len(images),
                },
            }
        )

    async def show(self, request: web.Request) -> web.StreamResponse:
        if (answer := await self._scripted(request, "show")) is not None:
            return answer
        image = self._image(request, self._owner(request))
        response = self._one(request, image)
        image.pending_shows -= 1
        return response

    async def store(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if (answer := await self._scripted(request, "store")) is not None:
            return answer
        owner = self._owner(request)
        form = self._form(
            request,
            body,
            frozenset({"name", "description", "resolution", "style", "medium", "filter"}),
        )
        errors: dict[str, list[str]] = {}
        for name in ("name", "description", "resolution"):
            if not form.get(name, "").strip():
                errors[name] = [f"The {name} field is required."]
        for name, choices in (
            ("resolution", RESOLUTIONS),
            ("style", STYLES),
            ("medium", MEDIUMS),
            ("filter", FILTERS),
        ):
            if form.get(name) and form[name] not in choices and name not in errors:
                errors[name] = [f"The selected {name} is invalid."]
        if errors:
            raise _invalid(errors)
        image = self.state.add(
            owner,
            form["name"],
            description=form["description"],
            resolution=form["resolution"],
            style=form.get("style"),
            medium=form.get("medium"),
            filter=form.get("filter"),
            pending_shows=self.state.pending_shows,
        )
        return self._one(request, image, status=201)

    async def update(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if (answer := await self._scripted(request, "update")) is not None:
            return answer
        image = self._image(request, self._owner(request))
        form = self._form(request, body, frozenset({"name", "favorite"}))
        errors: dict[str, list[str]] = {}
        if "name" in form and not form["name"].strip():
            errors["name"] = ["The name field must be a string."]
        if "favorite" in form and form["favorite"] not in ("1", "0"):
            errors["favorite"] = ["The favorite field must be true or false."]
        if errors:
            raise _invalid(errors)
        if "name" in form:
            image.name = form["name"]
        if "favorite" in form:
            image.favorite = form["favorite"] == "1"
        if self.state.update_empty:
            return web.Response(status=204)
        return self._one(request, image)

    async def delete(self, request: web.Request) -> web.StreamResponse:
        if (answer := await self._scripted(request, "delete")) is not None:
            return answer
        image = self._image(request, self._owner(request))
        del self.state.images[image.id]
        if self.state.delete_json:
            return web.json_response({"message": "Resource deleted."})
        return web.Response(status=204)

    async def storage(self, request: web.Request) -> web.StreamResponse:
        if (answer := await self._scripted(request, "storage")) is not None:
            return answer
        raw = request.match_info["id"]
        if not raw.isdigit() or int(raw) not in self.state.images:
            raise web.HTTPNotFound()
        return web.Response(body=self.state.png, content_type="image/png")
