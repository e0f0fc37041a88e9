"""Who the web chat's visitor plays, and where: a private chat with Iris and a group."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from playground.telegram import BOT, Chat, FakeBotApi, User

LANGUAGES = ("en", "es", "ru", "zh")

_YOU = User(id=1001, first_name="You", username="you", language_code="en")
_GROUP_MEMBERS = (
    _YOU,
    User(id=1002, first_name="Ana", username="ana", language_code="en"),
    User(id=1003, first_name="Ben", username="ben", language_code="en"),
)
PRIVATE = Chat.private(_YOU)
GROUP = Chat(id=-1001000001, type="supergroup", title="Playground group")


class Cast:
    """The simulated people, their language, and the chats they speak in."""

    def __init__(self) -> None:
        self.language = "en"
        self.users: dict[int, User] = {user.id: user for user in _GROUP_MEMBERS}
        self.chats: dict[int, Chat] = {PRIVATE.id: PRIVATE, GROUP.id: GROUP}
        self.members: dict[int, tuple[int, ...]] = {
            PRIVATE.id: (_YOU.id,),
            GROUP.id: tuple(user.id for user in _GROUP_MEMBERS),
        }

    def enter(self, api: FakeBotApi) -> None:
        """Everyone is in their chats from the start: the private chat is open, so the bot can
        write there (inline results are uploaded there first), and the bot is an administrator of
        the group."""
        for chat_id, members in self.members.items():
            chat = self.chats[chat_id]
            for user_id in members:
                api.add_member(chat, self.users[user_id])
        api.add_member(GROUP, BOT, "administrator")

    def set_language(self, code: str) -> None:
        """Every simulated user's Telegram language_code from now on."""
        if code not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        self.language = code
        self.users = {uid: replace(user, language_code=code) for uid, user in self.users.items()}

    def speaker(self, chat_id: int, user_id: int) -> tuple[Chat, User]:
        """The chat and the user who speaks in it; ValueError if they are not there."""
        chat = self.chats.get(chat_id)
        if chat is None or user_id not in self.members[chat_id]:
            raise ValueError("no such chat, or that user is not in it")
        return chat, self.users[user_id]

    def setup(self) -> dict[str, Any]:
        """What the page needs to draw its chats."""
        return {
            "bot": {"id": BOT.id, "name": BOT.first_name, "username": BOT.username},
            "language": self.language,
            "languages": list(LANGUAGES),
            "chats": [
                {
                    "id": chat.id,
                    "type": chat.type,
                    "title": chat.title or BOT.first_name,
                    "members": [
                        {"id": uid, "name": self.users[uid].first_name}
                        for uid in self.members[chat.id]
                    ],
                }
                for chat in self.chats.values()
            ],
        }
