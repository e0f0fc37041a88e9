"""Stored files: what users and the bot sent, by file id and by download path."""

from __future__ import annotations

import itertools
import mimetypes
import re
from dataclasses import dataclass
from typing import Any, Literal

from playground.telegram.errors import ApiError, bad
from playground.telegram.model import MAX_PHOTO, MAX_UPLOAD
from playground.telegram.pictures import Picture, PictureDecoder
from playground.telegram.wire import Files, upload_of

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")

FileKind = Literal["photo", "document"]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file Telegram keeps: its ids, download path and bytes."""

    file_id: str
    unique_id: str
    path: str
    data: bytes
    kind: FileKind
    width: int = 0
    height: int = 0
    name: str | None = None
    mime_type: str | None = None


class FileStore:
    """Files by id and by path; photos keep every size."""

    def __init__(self, decode_picture: PictureDecoder) -> None:
        self.decode_picture = decode_picture
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, tuple[str, ...]] = {}
        """Every photo size's file id to all sizes of that photo."""
        self._numbers = itertools.count(1)

    def save(self, data: bytes, *, kind: FileKind, ext: str, **meta: Any) -> StoredFile:
        """Store bytes under a fresh file id and path."""
        n = next(self._numbers)
        folder = "photos" if kind == "photo" else "documents"
        stored = StoredFile(
            file_id=f"{'AgAC' if kind == 'photo' else 'BQAC'}-{n:06d}",
            unique_id=f"AQAD{n:06d}",
            path=f"{folder}/file_{n}{ext}",
            data=data,
            kind=kind,
            **meta,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[stored.path] = stored
        return stored

    def save_photo(self, data: bytes, picture: Picture) -> tuple[str, ...]:
        """A thumbnail and the full image; their file ids, smallest first."""
        thumb = self.save(
            picture.thumb,
            kind="photo",
            ext=".jpg",
            width=picture.thumb_width,
            height=picture.thumb_height,
        )
        full = self.save(
            data, kind="photo", ext=picture.ext, width=picture.width, height=picture.height
        )
        sizes = (thumb.file_id, full.file_id)
        self._photo_sets.update(dict.fromkeys(sizes, sizes))
        return sizes

    def save_document(self, data: bytes, *, name: str, mime_type: str) -> StoredFile:
        """A document, its path ending in the name's extension."""
        ext = match.group() if (match := _EXTENSION.search(name)) else ""
        return self.save(data, kind="document", ext=ext, name=name, mime_type=mime_type)

    def bot_photo(self, value: Any, files: Files, what: str) -> tuple[str, ...]:
        """A photo the bot sends: an upload (checked as Telegram does) or a known file id."""
        upload = upload_of(value, files, what)
        if upload is None:
            return self.photo_sizes(self.known(value, "photo").file_id)
        if len(upload.data) > MAX_PHOTO:
            raise bad("PHOTO_SAVE_FILE_INVALID")
        try:
            picture = self.decode_picture(upload.data)
        except ValueError:
            raise bad("IMAGE_PROCESS_FAILED") from None
        w, h = picture.width, picture.height
        if w + h > 10_000 or max(w, h) > 20 * min(w, h):
            raise bad("PHOTO_INVALID_DIMENSIONS")
        return self.save_photo(upload.data, picture)

    def photo_sizes(self, file_id: str) -> tuple[str, ...]:
        """Every size of the photo one of whose sizes has this file id."""
        return self._photo_sets[file_id]

    def bot_document(self, value: Any, files: Files, what: str) -> StoredFile:
        """A document the bot sends: an upload or a known file id."""
        upload = upload_of(value, files, what)
        if upload is None:
            return self.known(value, "document")
        if len(upload.data) > MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        mime = mimetypes.guess_type(upload.filename)[0] or upload.content_type
        return self.save_document(upload.data, name=upload.filename, mime_type=mime)

    def known(self, value: Any, kind: FileKind) -> StoredFile:
        """A file id the bot reuses, of the right kind."""
        if not isinstance(value, str) or value not in self.by_id:
            raise bad("wrong file identifier/HTTP URL specified")
        stored = self.by_id[value]
        if stored.kind != kind:
            raise bad("type of file mismatch")
        return stored
