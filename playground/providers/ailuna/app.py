"""The fake AiLuna site: its images API routes and the hosts that serve the images."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from playground.providers.ailuna.checks import error, invalid, unknown_fields
from playground.providers.ailuna.listing import list_answer
from playground.providers.ailuna.state import (
    FILTERS,
    MEDIUMS,
    RESOLUTIONS,
    STYLES,
    AiLunaState,
    FakeImage,
    Route,
)

_FORM = "application/x-www-form-urlencoded"


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
            raise error(web.HTTPBadRequest, "Authorization must never reach a third-party host")
        return web.Response(body=state.png, content_type="image/png")

    app = web.Application()
    app.router.add_get("/storage/{id}.png", image)
    return app


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
            raise error(web.HTTPBadRequest, "the Accept header must be application/json")
        auth = request.headers.get("Authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme != "Bearer" or key not in self.state.keys:
            raise error(web.HTTPUnauthorized, "Unauthenticated.")
        return key

    def _image(self, request: web.Request, owner: str) -> FakeImage:
        raw = request.match_info["id"]
        image = self.state.images.get(int(raw)) if raw.isdigit() else None
        if image is None or image.owner != owner:
            raise error(web.HTTPNotFound, "No query results for model [App\\Models\\Image].")
        return image

    def _form(self, request: web.Request, body: bytes, known: frozenset[str]) -> dict[str, str]:
        if request.content_type != _FORM:
            raise error(web.HTTPBadRequest, f"the body must be {_FORM}, not {request.content_type}")
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError) as e:
            raise error(web.HTTPBadRequest, f"the form body is malformed: {e}") from e
        form = dict(pairs)
        unknown_fields(form, known, f"{request.method} {request.path}")
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
        return list_answer(request, self.state, owner, resource=self._resource)

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
            raise invalid(errors)
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
            raise invalid(errors)
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
