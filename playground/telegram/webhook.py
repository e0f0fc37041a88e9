"""Webhook delivery: once setWebhook names a URL, pending updates are POSTed to it in order, one
at a time, with the secret token header; an update leaves the queue once answered with a 2xx."""

# Telegram opens up to max_connections at once and retries a failed update with growing delays;
# one connection and a fixed short retry keep the order plain and a test's wait short. A method
# call in the response body is not carried out.

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp

from playground.telegram.state import State

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
RETRY = 0.1
"""Seconds before an update the webhook failed to take is sent again."""
TIMEOUT = aiohttp.ClientTimeout(total=10)


class WebhookSender:
    """Delivers the state's pending updates to its webhook while the emulator serves."""

    def __init__(self, state: State) -> None:
        self.state = state
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin delivering in the background (once, however many servers serve the emulator)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        """Stop delivering once the emulator is closing; an update being sent stays pending."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        state = self.state
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            # Closing ends the loop even when the cancel of `stop` lands as the journal wakes
            # it, where asyncio.wait_for (before 3.12) loses the cancel.
            while not state.closing:
                await state.journal.wait(lambda: self._due() or state.closing, 3600)
                url = state.webhook
                if url is None or not self._due():
                    continue
                update = state.pending[0]
                error = await self._post(session, url, update)
                if error is None:
                    # Removed by identity: a setWebhook meanwhile may have dropped the queue.
                    state.pending[:] = [u for u in state.pending if u is not update]
                    state.journal.changed()
                    continue
                state.webhook_error = (int(time.time()), error)
                await asyncio.sleep(RETRY)

    def _due(self) -> bool:
        return (
            self.state.webhook is not None and bool(self.state.pending) and not self.state.closing
        )

    async def _post(self, session: aiohttp.ClientSession, url: str, update: object) -> str | None:
        """None once the webhook took the update, else what went wrong (as getWebhookInfo says)."""
        secret = self.state.webhook_secret
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        try:
            async with session.post(url, json=update, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as e:
            return f"Connection failed: {type(e).__name__}"
