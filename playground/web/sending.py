"""What a simulated user sends from the page, handed to the emulator as Telegram would."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.telegram import Chat, FakeBotApi, User

_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file picked or dropped on the page."""

    name: str
    content_type: str
    data: bytes


@dataclass
class Outgoing:
    """A message being composed: text (the caption if files come with it), files, a reply."""

    text: str = ""
    files: list[Attachment] = field(default_factory=list)
    reply_to: int | None = None
    as_files: bool = False
    """Send images as documents (uncompressed), not as photos."""

    def add_file(self, name: str, content_type: str, data: bytes) -> None:
        """Attach a file."""
        self.files.append(Attachment(name, content_type, data))


def send(api: FakeBotApi, chat: Chat, user: User, out: Outgoing) -> None:
    """Text alone, one photo, an album of photos, or files one by one (the caption on the
    first); ValueError if the emulator refuses it."""
    caption = out.text.strip() or None
    if not out.files:
        if caption is None:
            raise ValueError("nothing to send")
        api.send_text(user, chat, out.text, reply_to=out.reply_to)
        return
    photos = not out.as_files and all(f.content_type in _IMAGE_TYPES for f in out.files)
    if photos and len(out.files) > 1:
        api.send_media_group(user, chat, [f.data for f in out.files[:10]], caption=caption)
        return
    for i, attachment in enumerate(out.files):
        text = caption if i == 0 else None
        reply_to = out.reply_to if i == 0 else None
        if photos:
            api.send_photo(user, chat, attachment.data, caption=text, reply_to=reply_to)
        else:
            api.send_document(
                user,
                chat,
                attachment.data,
                file_name=attachment.name,
                mime_type=attachment.content_type,
                caption=text,
                reply_to=reply_to,
            )
