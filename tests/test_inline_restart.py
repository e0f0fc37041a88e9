"""Inline mode through the real process: killed during the pending job, restarted, the inline
message turns into the image once, and the provider was asked once."""

from __future__ import annotations

import signal
from pathlib import Path

from playground.telegram import Chat
from tests.conftest import Serve
from tests.harness import ALICE, bot_process
from tests.test_e2e import pending_gptunnel_setup

OUTSIDE = Chat(id=-100778, type="supergroup", title="Friends")


async def test_kill_during_an_inline_job_then_restart_shows_the_image_once(
    serve: Serve, tmp_path: Path
) -> None:
    api, gptunnel, provider, env = await pending_gptunnel_setup(serve, tmp_path)
    api.inline_mode = True
    async with bot_process(env, tmp_path) as first:
        api.send_text(ALICE, Chat.private(ALICE), "/start")
        await api.wait_for("sendMessage", timeout=30)
        query_id = api.inline_query(ALICE, OUTSIDE, "a lighthouse in a storm --ar 16:9")
        answer = await api.answer_to(query_id, timeout=30)
        [result] = [r for r in answer.results if r.id.startswith("g:")]
        posted = api.choose(ALICE, query_id, result.id)
        assert posted.inline_message_id is not None
        inline_id = posted.inline_message_id
        [start] = posted.buttons
        assert start.callback_data is not None
        api.press(ALICE, posted, start.callback_data)
        await api.wait_until(lambda: any(t.polls > 0 for t in gptunnel.tasks.values()), timeout=30)
        assert "GPTunnel" in (api.inline_message(inline_id).text or "")
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
    gptunnel.final_status = "done"
    mark = api.mark()
    async with bot_process(env, tmp_path):
        await api.wait_until(lambda: api.inline_message(inline_id).photo is not None, timeout=30)
    shown = api.inline_message(inline_id)
    assert shown.caption is not None and "a lighthouse in a storm" in shown.caption
    medias = [c for c in api.calls[mark:] if c.method == "editMessageMedia" and not c.error]
    assert len(medias) == 1 and medias[0].params["inline_message_id"] == inline_id
    assert len(provider.calls("POST", "/v1/media/create")) == 1
    assert len(gptunnel.tasks) == 1
    assert "Traceback" not in (tmp_path / "bot.log").read_text()
