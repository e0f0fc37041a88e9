"""Users of inline mode: they type `@bot query` in any chat, choose a result, press its buttons."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from playground.telegram.encode import user_json
from playground.telegram.inline import InlineAnswer, InlineQuery, InlineResult
from playground.telegram.inspector import Inspector
from playground.telegram.model import Chat, Message, User


class InlinePlayer(Inspector):
    """Plays inline mode; @BotFather's two switches are `inline_mode` and `inline_feedback`."""

    @property
    def inline_mode(self) -> bool:
        """/setinline: the bot takes inline queries (getMe's supports_inline_queries)."""
        return self.state.inline_mode

    @inline_mode.setter
    def inline_mode(self, on: bool) -> None:
        self.state.inline_mode = on

    @property
    def inline_feedback(self) -> bool:
        """/setinlinefeedback: the bot hears of every chosen result (chosen_inline_result)."""
        return self.state.inline_feedback

    @inline_feedback.setter
    def inline_feedback(self, on: bool) -> None:
        self.state.inline_feedback = on

    def inline_query(self, user: User, chat: Chat, text: str, *, offset: str = "") -> str:
        """The user types `@iris_test_bot <text>` in the chat; the inline query id.

        A chat the emulator has not seen yet is one the bot is not in: it cannot send there.
        """
        if not self.state.inline_mode:
            raise ValueError("inline mode is off (@BotFather /setinline)")
        state = self.state
        if chat.id not in state.chats:
            state.chats[chat.id] = chat
            state.outside.add(chat.id)
        state.users[user.id] = user
        query = InlineQuery(state.next_query_id(), user, chat.id, text, offset)
        state.inline_queries[query.id] = query
        chat_type = "sender" if chat.type == "private" and chat.id == user.id else chat.type
        state.enqueue(
            {
                "inline_query": {
                    "id": query.id,
                    "from": user_json(user),
                    "query": text,
                    "offset": offset,
                    "chat_type": chat_type,
                }
            }
        )
        return query.id

    def inline_answer(self, query_id: str) -> InlineAnswer | None:
        """What the bot answered to the query, once it did."""
        return self.state.inline_answers.get(query_id)

    async def answer_to(self, query_id: str, *, timeout: float = 10) -> InlineAnswer:
        """Wait for the bot's answer to the query."""
        await self.wait_until(lambda: query_id in self.state.inline_answers, timeout=timeout)
        return self.state.inline_answers[query_id]

    def choose(self, user: User, query_id: str, result_id: str) -> Message:
        """The user taps a result: it is posted in the query's chat, sent by the user via the
        bot; with a keyboard it gets an inline_message_id; the bot hears of it only with
        inline feedback on."""
        answer = self.state.inline_answers.get(query_id)
        if answer is None:
            raise ValueError(f"query {query_id} has no answer to choose from")
        if user.id != answer.query.user.id:
            raise ValueError("only the user who typed the query sees its results")
        result = answer.result(result_id)
        state = self.state
        chat = state.chats[answer.query.chat_id]
        message = state.new_message(chat, user.id, via_bot=True, **_content(result))
        inline_id: str | None = None
        if result.reply_markup:
            inline_id = f"AgAAA{len(state.inline_messages) + 1:011d}"
            message = state.store(replace(message, inline_message_id=inline_id))
            state.inline_messages[inline_id] = (chat.id, message.message_id)
        if state.inline_feedback:
            chosen: dict[str, Any] = {
                "result_id": result.id,
                "from": user_json(user),
                "query": answer.query.query,
            }
            if inline_id is not None:
                chosen["inline_message_id"] = inline_id
            state.enqueue({"chosen_inline_result": chosen})
        else:
            state.journal.changed()
        return message

    def inline_message(self, inline_message_id: str) -> Message:
        """The current record of an inline message."""
        return self.message(*self.state.inline_messages[inline_message_id])

    def _press_inline(self, user: User, message: Message, data: str) -> str:
        """A press on an inline message's button: the query has its id and no message."""
        assert message.inline_message_id is not None
        query_id = self.state.next_query_id()
        self.state.open_queries.add(query_id)
        self.state.enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user_json(user),
                    "inline_message_id": message.inline_message_id,
                    "chat_instance": str(-message.chat_id),
                    "data": data,
                }
            }
        )
        return query_id


def _content(result: InlineResult) -> dict[str, Any]:
    """What the message of a chosen result holds."""
    if result.photo_url is not None:
        raise ValueError("the emulator cannot fetch a photo URL")
    content: dict[str, Any] = {
        "entities": result.entities,
        "parse_mode": result.parse_mode,
        "reply_markup": result.reply_markup,
    }
    if result.type == "article":
        return {**content, "text": result.text}
    return {**content, "photo_sizes": result.photo_sizes, "caption": result.caption}
