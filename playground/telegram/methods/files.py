"""Files: getFile (the download itself is served beside the methods)."""

from __future__ import annotations

from typing import Any

from playground.telegram.errors import bad
from playground.telegram.methods.base import Method
from playground.telegram.model import MAX_DOWNLOAD
from playground.telegram.state import State
from playground.telegram.wire import Files, Params


async def get_file(state: State, params: Params, files: Files) -> Any:
    """getFile: the path to download a stored file from, up to 20 MB."""
    stored = state.files.by_id.get(str(params.get("file_id", "")))
    if stored is None:
        raise bad("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD:
        raise bad("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.unique_id,
        "file_size": len(stored.data),
        "file_path": stored.path,
    }


METHODS: dict[str, Method] = {"getFile": get_file}
