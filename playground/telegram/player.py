"""The test's side of the emulator: users who write, send files, press buttons, open topics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from playground.telegram.content import user_entities
from playground.telegram.encode import message_json, user_json
from playground.telegram.inline_player import InlinePlayer
from playground.telegram.model import Chat, MemberStatus, Message, User


class Player(InlinePlayer):
    """Plays users: they write, send files, press buttons, open topics and use inline mode."""

    # --- the chats ---------------------------------------------------------------------------

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sending to them answers 403 until they write again."""
        self.state.blocked.add(user_id)

    def add_member(self, chat: Chat, user: User, status: MemberStatus = "member") -> None:
        """Make the user (or `BOT`) a member of the chat; for a private chat: register it."""
        self.state.enter(user, chat)
        self.state.members[(chat.id, user.id)] = status

    def open_topic(self, user: User, chat: Chat, name: str) -> int:
        """The user opens a topic in a forum; its thread id (its service message's id)."""
        message = self.state.open_topic(chat, user, name)
        self.state.enqueue({"message": message_json(self.state, message)})
        return message.message_id

    # --- playing users -----------------------------------------------------------------------

    def send_text(
        self,
        user: User,
        chat: Chat,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> Message:
        """The user sends a text message (commands and mentions marked as Telegram does)."""
        return self._from_user(
            user, chat, reply_to, thread_id, text=text, entities=user_entities(text)
        )

    def send_photo(
        self,
        user: User,
        chat: Chat,
        data: bytes,
        *,
        caption: str | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        media_group_id: str | None = None,
    ) -> Message:
        """The user sends a photo: a thumbnail and the full image (these exact bytes)."""
        files = self.state.files
        return self._from_user(
            user,
            chat,
            reply_to,
            thread_id,
            photo_sizes=files.save_photo(data, files.decode_picture(data)),
            caption=caption,
            entities=user_entities(caption or ""),
            media_group_id=media_group_id,
        )

    def send_document(
        self,
        user: User,
        chat: Chat,
        data: bytes,
        *,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> Message:
        """The user sends a file as a document."""
        stored = self.state.files.save_document(data, name=file_name, mime_type=mime_type)
        return self._from_user(
            user,
            chat,
            reply_to,
            thread_id,
            document=stored.file_id,
            document_name=file_name,
            document_mime=mime_type,
            caption=caption,
            entities=user_entities(caption or ""),
        )

    def send_media_group(
        self,
        user: User,
        chat: Chat,
        photos: Sequence[bytes],
        *,
        caption: str | None = None,
        thread_id: int | None = None,
    ) -> list[Message]:
        """The user sends an album: one update per photo, the caption on the first."""
        group = self.state.next_media_group_id()
        return [
            self.send_photo(
                user,
                chat,
                data,
                caption=caption if i == 0 else None,
                thread_id=thread_id,
                media_group_id=group,
            )
            for i, data in enumerate(photos)
        ]

    def press(self, user: User, message: Message, callback_data: str) -> str:
        """The user presses a button of a bot message; returns the callback query id."""
        current = self.state.live(message.chat_id, message.message_id)
        if current is None or not current.bot_editable:
            raise ValueError("only a bot message that still exists has buttons to press")
        if callback_data not in {b.callback_data for b in current.buttons}:
            raise ValueError(f"message {current.message_id} has no button {callback_data!r}")
        return self.press_data(user, current, callback_data)

    def press_data(self, user: User, message: Message, data: str) -> str:
        """A press carrying any data, as a tampering client sends it; the callback query id."""
        current = self.message(message.chat_id, message.message_id)
        if current.inline_message_id is not None:
            return self._press_inline(user, current, data)
        chat = self.state.chats[current.chat_id]
        self.state.enter(user, chat)
        query_id = self.state.next_query_id()
        self.state.open_queries.add(query_id)
        self.state.enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user_json(user),
                    "message": message_json(self.state, current),
                    "chat_instance": str(-chat.id),
                    "data": data,
                }
            }
        )
        return query_id

    def _from_user(
        self,
        user: User,
        chat: Chat,
        reply_to: int | None,
        thread_id: int | None,
        **content: Any,
    ) -> Message:
        state = self.state
        state.enter(user, chat)
        if chat.type == "private":
            state.blocked.discard(user.id)  # writing to the bot unblocks it
        if thread_id is not None and (chat.id, thread_id) not in state.topics:
            raise ValueError(f"no topic {thread_id} in chat {chat.id}")
        if reply_to is not None:
            target = state.live(chat.id, reply_to)
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat.id} to reply to")
            # A reply lands in the topic of the message it answers.
            thread_id = target.thread_id if target.thread_id is not None else thread_id
        message = state.new_message(
            chat, user.id, reply_to_message_id=reply_to, thread_id=thread_id, **content
        )
        state.enqueue({"message": message_json(state, message)})
        return message
