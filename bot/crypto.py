"""Encryption of stored secrets (AES-256-GCM bound to their row) and the key that protects them."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

from Crypto.Cipher import AES
from Crypto.Random import get_random_bytes

from bot.config import decode_key

logger = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
VERSION = b"\x01"
"""The first byte of every blob, so the format can change without guessing."""

KEY_FILENAME = "secret.key"


class DecryptionError(Exception):
    """A blob is tampered with, of another key or row, or of an unknown format."""


class KeyFileError(Exception):
    """The key file exists but does not hold a usable key."""


class SecretBox:
    """AES-256-GCM with a fresh nonce per blob; the AAD ties a blob to the row it belongs in."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the key must be {KEY_BYTES} bytes, got {len(key)}")
        self._key = key

    def __repr__(self) -> str:
        return "SecretBox(<key>)"

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> bytes:
        """`VERSION + nonce + ciphertext + tag` of `plaintext`, authenticated with `aad`."""
        nonce = get_random_bytes(NONCE_BYTES)
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
        cipher.update(aad)
        ciphertext, tag = cipher.encrypt_and_digest(plaintext)
        return VERSION + nonce + ciphertext + tag

    def decrypt(self, blob: bytes, *, aad: bytes) -> bytes:
        """The plaintext of a blob made by `encrypt` with the same key and `aad`."""
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[:1] != VERSION:
            raise DecryptionError("not a blob of a known format")
        nonce = blob[1 : 1 + NONCE_BYTES]
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
        cipher.update(aad)
        try:
            return bytes(
                cipher.decrypt_and_verify(blob[1 + NONCE_BYTES : -TAG_BYTES], blob[-TAG_BYTES:])
            )
        except ValueError:
            raise DecryptionError("the blob does not verify with this key and row") from None


def load_or_create_key(*, keys_secret: str | None, data_dir: Path) -> bytes:
    """KEYS_SECRET if given, else the key in `data_dir/secret.key`, created on first use."""
    if keys_secret is not None:
        return decode_key(keys_secret)
    path = data_dir / KEY_FILENAME
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    """Write a new random key; if another process wins the race, its key stays."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written whole under a temporary name, then linked into place: the key file never exists
    # partly written, never with looser permissions, and an existing one is never replaced.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{get_random_bytes(6).hex()}")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(base64.b64encode(get_random_bytes(KEY_BYTES)).decode("ascii") + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
        _fsync_directory(path.parent)
        logger.info("created a new encryption key file at %s", path)
    finally:
        temporary.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """Make the new directory entry durable: losing the key loses every stored credential."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_key_file(path: Path) -> bytes:
    """The key in `path`, tightening its permissions to 0600 first if they are looser."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o600)
        logger.warning("key file %s was readable by others (mode %o); set it to 600", path, mode)
    try:
        return decode_key(path.read_text(encoding="ascii"))
    except ValueError as e:
        # A UnicodeDecodeError's text quotes a byte of the file: never show it.
        reason = "is not text" if isinstance(e, UnicodeDecodeError) else str(e)
        raise KeyFileError(
            f"key file {path} {reason}; restore the original, or delete it to start with a "
            "new key (stored credentials are then lost)"
        ) from None
