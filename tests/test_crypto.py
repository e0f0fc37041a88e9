"""SecretBox: AES-256-GCM bound to a row; the key file: created once, private, checked."""

from __future__ import annotations

import base64
import logging
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.crypto import KEY_FILENAME, DecryptionError, KeyFileError, SecretBox, load_or_create_key

KEY = bytes(range(32))
AAD = b"cred:42:gptunnel"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip() -> None:
    box = SecretBox(KEY)
    blob = box.encrypt(b"SECRET-KEY-1234567890", aad=AAD)
    assert blob[:1] == b"\x01"
    assert b"SECRET-KEY" not in blob
    assert box.decrypt(blob, aad=AAD) == b"SECRET-KEY-1234567890"


@pytest.mark.parametrize("position", [0, 1, 12, 13, -17, -1], ids=lambda p: f"byte{p}")
def test_a_flipped_byte_fails(position: int) -> None:
    box = SecretBox(KEY)
    blob = bytearray(box.encrypt(b"some plaintext", aad=AAD))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        box.decrypt(bytes(blob), aad=AAD)


def test_wrong_aad_fails() -> None:
    box = SecretBox(KEY)
    blob = box.encrypt(b"some plaintext", aad=AAD)
    with pytest.raises(DecryptionError):
        box.decrypt(blob, aad=b"cred:43:gptunnel")


def test_wrong_key_fails() -> None:
    blob = SecretBox(KEY).encrypt(b"some plaintext", aad=AAD)
    with pytest.raises(DecryptionError):
        SecretBox(bytes(32)).decrypt(blob, aad=AAD)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(27)], ids=["empty", "1", "28"])
def test_truncated_blob_fails(blob: bytes) -> None:
    with pytest.raises(DecryptionError):
        SecretBox(KEY).decrypt(blob, aad=AAD)


def test_nonce_differs_per_encryption() -> None:
    box = SecretBox(KEY)
    first, second = (box.encrypt(b"same", aad=AAD) for _ in range(2))
    assert first[1:13] != second[1:13]
    assert first != second


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_key_must_be_32_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox(bytes(length))


def test_repr_hides_the_key() -> None:
    assert KEY.hex() not in repr(SecretBox(KEY))
    assert repr(KEY) not in repr(SecretBox(KEY))


def test_key_file_created_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = load_or_create_key(keys_secret=None, data_dir=data_dir)
    path = data_dir / KEY_FILENAME
    assert len(key) == 32
    assert _mode(path) == 0o600
    assert _mode(data_dir) & 0o077 == 0
    assert base64.b64decode(path.read_text()) == key
    assert load_or_create_key(keys_secret=None, data_dir=data_dir) == key
    assert sorted(p.name for p in data_dir.iterdir()) == [KEY_FILENAME]


def test_concurrent_creators_agree_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = list(
            pool.map(lambda _: load_or_create_key(keys_secret=None, data_dir=tmp_path), range(8))
        )
    assert len(set(keys)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILENAME]


def test_loose_permissions_are_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = load_or_create_key(keys_secret=None, data_dir=tmp_path)
    path = tmp_path / KEY_FILENAME
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="bot.crypto"):
        assert load_or_create_key(keys_secret=None, data_dir=tmp_path) == key
    assert _mode(path) == 0o600
    assert "644" in caplog.text
    assert path.read_text().strip() not in caplog.text


@pytest.mark.parametrize(
    "content",
    [b"not base64 at all!", base64.b64encode(bytes(16)), b"\xff\xfe\x00garbage", b""],
    ids=["not-base64", "16-bytes", "binary", "empty"],
)
def test_malformed_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / KEY_FILENAME
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match=str(path)) as caught:
        load_or_create_key(keys_secret=None, data_dir=tmp_path)
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == content


def test_keys_secret_writes_no_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    secret = base64.urlsafe_b64encode(KEY).decode()
    assert load_or_create_key(keys_secret=secret, data_dir=data_dir) == KEY
    assert not data_dir.exists()
