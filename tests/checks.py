"""What tests look at: real images to send, and the calls and bytes the bot produced."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterable
from pathlib import Path

from PIL import Image

from playground.telegram import ApiCall
from services.base import mask


def photo_bytes(width: int = 64, height: int = 48, fmt: str = "JPEG", seed: int = 1) -> bytes:
    """A real image with noise, so it has a real size."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def text_has(fragment: str) -> Callable[[ApiCall], bool]:
    """Calls whose text contains `fragment`."""
    return lambda call: fragment in str(call.params.get("text", ""))


def text_of(call: ApiCall) -> str:
    """The text a call carried, as sent (HTML); empty if it had none."""
    return str(call.params.get("text", ""))


def replied_to(call: ApiCall) -> int | None:
    """The message a send call answers, if any."""
    reply = call.params.get("reply_parameters")
    return None if reply is None else int(reply["message_id"])


def db_bytes(data_dir: Path) -> bytes:
    """The raw bytes of the database and its WAL and shared-memory files."""
    files = [data_dir / name for name in ("iris.db", "iris.db-wal", "iris.db-shm")]
    assert files[0].exists()
    return b"".join(f.read_bytes() for f in files if f.exists())


def assert_absent(secrets: Iterable[str], haystack: str | bytes, where: str) -> None:
    """None of the secrets occurs in the text or bytes."""
    for secret in secrets:
        found = secret.encode() in haystack if isinstance(haystack, bytes) else secret in haystack
        assert not found, f"a secret ({mask(secret)}) leaked into {where}"
