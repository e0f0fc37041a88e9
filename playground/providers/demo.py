"""The provider emulators the playground's demo mode runs, answering as a demo."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from aiohttp import web

from playground.loopback import LocalSite
from playground.providers.ailuna import AiLunaState, make_app
from playground.providers.artwork import demo_description, demo_picture
from playground.providers.codexaeternum import FakeCodexAeternum
from playground.providers.describepicture import PATH as DESCRIBEPICTURE_PATH
from playground.providers.describepicture import FakeDescribePicture
from playground.providers.gptunnel import API_KEY as GPTUNNEL_KEY
from playground.providers.gptunnel import GPTunnelFake
from playground.providers.server import Handler
from services.describepicture import decrypt_envelope

DEMO_APP_ID = "playground-demo-app"
"""The DescribePicture appId the demo knows (its operator credential)."""
_CREDITS = 1_000_000


class DemoProviders:
    """GPTunnel and DescribePicture answering as a demo (the operator's keys are theirs);
    CodexAeternum and AiLuna run too, with no key, so nothing in the demo reaches the internet."""

    def __init__(self, describepicture_key: bytes) -> None:
        # One "processing" poll, so the progress message shows before the picture.
        self.gptunnel = GPTunnelFake(progress=("processing",))
        self.describepicture = FakeDescribePicture(
            key=describepicture_key, credits={DEMO_APP_ID: _CREDITS}
        )
        self._describepicture_key = describepicture_key
        self._sites: list[LocalSite] = []

    async def start(self) -> dict[str, Any]:
        """Serve every emulator; the settings that point Iris at them."""
        gptunnel = self.gptunnel.app()
        gptunnel.middlewares.append(self._draw)
        describepicture = self.describepicture.app()
        describepicture.middlewares.append(self._describe)
        urls = [
            await self._serve(app)
            for app in (
                gptunnel,
                describepicture,
                FakeCodexAeternum().app(),
                make_app(AiLunaState(keys=set())),
            )
        ]
        return {
            "gptunnel_url": urls[0],
            "gptunnel_api_key": GPTUNNEL_KEY,
            "describepicture_url": urls[1] + DESCRIBEPICTURE_PATH,
            "describepicture_app_id": DEMO_APP_ID,
            "codexaeternum_url": urls[2],
            "ailuna_url": urls[3],
        }

    async def close(self) -> None:
        """Stop every emulator."""
        for site in self._sites:
            await site.close()

    async def _serve(self, app: web.Application) -> str:
        site = LocalSite(app)
        self._sites.append(site)
        return await site.start()

    @web.middleware
    async def _draw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A result image is a picture of the task's prompt marked "demo"."""
        response = await handler(request)
        name = request.match_info.get("name", "")
        task = self.gptunnel.tasks.get(name.removesuffix("_result.webp"))
        if response.status != 200 or task is None:
            return response
        image = await asyncio.to_thread(demo_picture, task.prompt, task.ar)
        return web.Response(body=image, content_type="image/webp")

    @web.middleware
    async def _describe(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """An answer describes the photo's real size and colours, and says it is a demo."""
        response = await handler(request)
        if response.status != 200 or not isinstance(response, web.Response):
            return response
        payload = decrypt_envelope(json.loads(await request.read()), self._describepicture_key)
        image = base64.b64decode(payload["imageBase64"])
        question = str(payload["prompt"][-1]["text"])
        body = json.loads(response.body if isinstance(response.body, bytes) else b"{}")
        body["answer"] = await asyncio.to_thread(demo_description, image, question)
        return web.json_response(body)
